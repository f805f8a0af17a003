"""Self-optimizing refinement, one round (synthesis zone, docs/design.md#self-optimizing-refinement).

For each working item: G writes a short critique of chosen vs rejected; the target model
of the previous round (target base + its adapter) writes n improved responses from the
query, the chosen response and the critique. The Score stage then scores them as usual.
"""

from __future__ import annotations

import logging

from ..config import RefineConfig
from ..contract import Job
from ..generate import Generator, ModelSpec
from ..prompts import critique_prompt, improvement_prompt
from ..records import read_unique, write_candidates

log = logging.getLogger(__name__)

WORKING_FIELDS = {"prompt": str, "chosen": str, "rejected": str, "reward": float}
# Rounds draw from different seeds so round 2 does not replay round 1's samples.
ROUND_SEED_STRIDE = 1_000_003


def run(job: Job[RefineConfig]) -> dict:
    cfg = job.config
    working = read_unique(job.jsonl_path("working"), WORKING_FIELDS)
    seed = cfg.seed + cfg.round * ROUND_SEED_STRIDE
    # Load and free G before T: on one GPU both may not fit at once.
    generator = ModelSpec(job.model_path("base"), job.model_path("generator"), name="generator")
    with Generator(generator, merged=True) as g:
        critiques = g.generate(
            [critique_prompt(w["prompt"], w["chosen"], w["rejected"]) for w in working],
            n=1,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.critique_max_new_tokens,
            seed=seed,
        )
        g_stats = g.stats
    target = ModelSpec(job.model_path("target_base"), job.model_path("target"), name="target")
    with Generator(target, merged=True) as t:
        improved = t.generate(
            [improvement_prompt(w["prompt"], w["chosen"], c[0]) for w, c in zip(working, critiques, strict=True)],
            n=cfg.candidates,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.max_new_tokens,
            seed=seed + 1,
        )
        t_stats = t.stats
    # The record keeps the working item's query, not the improvement instruction: Score rates R(q, c).
    written = write_candidates(job.output("candidates"), working, improved)
    log.info("round %d: %d items refined", cfg.round, written)
    return {
        "round": cfg.round,
        "items": written,
        "candidatesPerItem": cfg.candidates,
        "candidates": sum(len(c) for c in improved),
        "emptyCritiques": sum(1 for c in critiques if not c[0]),
        **g_stats.as_metrics("critique"),
        **t_stats.as_metrics("target"),
    }
