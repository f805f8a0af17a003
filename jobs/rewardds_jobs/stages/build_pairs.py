"""Build reward pairs (private zone, docs/design.md#build-reward-pairs).

For each private record (q, a): b = the public base model's greedy answer, g = the DP
generator's greedy answer; pairs a≻b, a≻g, g≻b. No model tuned on the private data without
DP is used: its outputs would depend on every record and void the reward proxy's
per-record guarantee.
"""

from __future__ import annotations

import logging

from ..config import BuildPairsConfig
from ..contract import Job
from ..generate import Generator, ModelSpec
from ..records import read_records, write_jsonl

log = logging.getLogger(__name__)


def record_pairs(prompt: str, truth: str, base_answer: str, generator_answer: str) -> list[dict]:
    """The three preferences of one record, in the contract's order a≻b, a≻g, g≻b."""
    return [
        {"prompt": prompt, "chosen": truth, "rejected": base_answer},
        {"prompt": prompt, "chosen": truth, "rejected": generator_answer},
        {"prompt": prompt, "chosen": generator_answer, "rejected": base_answer},
    ]


def input_budget(max_length: int, max_new_tokens: int) -> int:
    """Prompt tokens allowed so prompt + answer fit in maxLength (at least a short prompt)."""
    return max(16, max_length - max_new_tokens)


def run(job: Job[BuildPairsConfig]) -> dict:
    cfg = job.config
    records = read_records(job.jsonl_path("train"))
    spec = ModelSpec(job.model_path("base"), job.model_path("generator"), name="generator")
    prompts = [r["prompt"] for r in records]
    options = dict(
        greedy=True,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        max_input_tokens=input_budget(cfg.max_length, cfg.max_new_tokens),
    )
    # One loaded model answers twice: adapter off (the public base), adapter on (G).
    with Generator(spec, batch_size=cfg.batch_size) as model:
        base_answers = model.generate(prompts, use_adapter=False, **options)
        generator_answers = model.generate(prompts, use_adapter=True, **options)
        stats = model.stats
    out = [
        {"id": r["id"], "pairs": record_pairs(r["prompt"], r["response"], b[0], g[0])}
        for r, b, g in zip(records, base_answers, generator_answers, strict=True)
    ]
    written = write_jsonl(job.output("pairs") / "pairs.jsonl", out)
    log.info("wrote pairs for %d records", written)
    return {
        "records": written,
        "pairs": 3 * written,
        "emptyBaseAnswers": sum(1 for b in base_answers if not b[0]),
        "emptyGeneratorAnswers": sum(1 for g in generator_answers if not g[0]),
        "sameAnswers": sum(1 for b, g in zip(base_answers, generator_answers, strict=True) if b[0] == g[0]),
        **stats.as_metrics(),
    }
