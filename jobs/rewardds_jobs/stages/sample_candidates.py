"""Sample candidates (synthesis zone, docs/design.md#sample-candidates): G samples n responses per query."""

from __future__ import annotations

import logging

from ..config import SampleCandidatesConfig
from ..contract import Job
from ..generate import Generator, ModelSpec
from ..records import read_prompts, write_candidates

log = logging.getLogger(__name__)


def run(job: Job[SampleCandidatesConfig]) -> dict:
    cfg = job.config
    queries = read_prompts(job.jsonl_path("queries"))
    spec = ModelSpec(job.model_path("base"), job.model_path("generator"), name="generator")
    with Generator(spec, merged=True) as model:
        samples = model.generate(
            [q["prompt"] for q in queries],
            n=cfg.candidates,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.max_new_tokens,
            seed=cfg.seed,
        )
        stats = model.stats
    written = write_candidates(job.output("candidates"), queries, samples)
    log.info("sampled %d candidates for each of %d queries", cfg.candidates, written)
    return {
        "queries": written,
        "candidatesPerQuery": cfg.candidates,
        "candidates": sum(len(c) for c in samples),
        "emptyCandidates": sum(1 for row in samples for c in row if not c),
        **stats.as_metrics(),
    }
