"""Synthesize queries (synthesis zone, docs/design.md#synthesize-queries).

G samples M new prompts, few-shot from random public seeds when a seeds channel is given,
else zero-shot; with `queryPrompt: pre-query`, by continuing the start of a user turn in its
chat template, with no instruction and no seeds. Empty, over-long and duplicate prompts (after whitespace/case folding)
are dropped; sampling continues until M unique prompts or ⌈M·attemptsPerQuery⌉ attempts.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field

from ..config import SynthesizeQueriesConfig
from ..contract import Job
from ..generate import Generator, ModelSpec
from ..prompts import clean_query, cut_user_turn, fold_for_dedup, pre_query, query_synthesis_prompt
from ..records import read_prompts, write_jsonl

log = logging.getLogger(__name__)

# A query longer than this is not a question a user would type; it is dropped as over-long.
MAX_QUERY_CHARS = 2000


@dataclass
class QueryFilter:
    """Keeps the first of each folded prompt; counts what it drops and why."""

    max_tokens: int
    max_chars: int = MAX_QUERY_CHARS
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=lambda: {"empty": 0, "tooLong": 0, "duplicate": 0})
    _seen: set[str] = field(default_factory=set)

    def consider(self, text: str, n_tokens: int) -> str | None:
        """Keeps `text` and returns None, or returns the reason it was dropped."""
        query = clean_query(text)
        reason = None
        if not query:
            reason = "empty"
        elif n_tokens > self.max_tokens or len(query) > self.max_chars:
            reason = "tooLong"
        elif fold_for_dedup(query) in self._seen:
            reason = "duplicate"
        if reason:
            self.dropped[reason] += 1
            return reason
        self._seen.add(fold_for_dedup(query))
        self.kept.append(query)
        return None


def query_id(index: int) -> str:
    return f"q-{index:06d}"


def run(job: Job[SynthesizeQueriesConfig]) -> dict:
    cfg = job.config
    seeds_path = job.jsonl_path("seeds", optional=True)
    seeds = [s["prompt"] for s in read_prompts(seeds_path)] if seeds_path else []
    by_instruction = cfg.query_prompt == "instruction"
    shots = min(cfg.few_shot, len(seeds)) if by_instruction else 0
    rng = random.Random(cfg.seed)
    limit = math.ceil(cfg.queries * cfg.attempts_per_query)
    spec = ModelSpec(job.model_path("base"), job.model_path("generator"), name="generator")
    keep = QueryFilter(max_tokens=cfg.max_new_tokens)
    attempts = truncated = rounds = 0
    with Generator(spec, merged=True) as model:
        start, end = pre_query(model.tokenizer)
        while len(keep.kept) < cfg.queries and attempts < limit:
            # Ask for what is missing (bounded by the attempts left); the round's seed keeps reruns identical.
            want = min(cfg.queries - len(keep.kept), limit - attempts)
            if by_instruction:
                inputs = [query_synthesis_prompt(rng.sample(seeds, shots) if shots else []) for _ in range(want)]
            else:
                inputs = [start] * want
            completions = model.complete(
                inputs,
                raw=not by_instruction,
                n=1,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                max_new_tokens=cfg.max_new_tokens,
                seed=cfg.seed + rounds,
            )
            rounds += 1
            attempts += want
            for (completion,) in completions:
                truncated += 0 if completion.finished else 1
                keep.consider(
                    completion.text if by_instruction else cut_user_turn(completion.text, end), completion.tokens
                )
                if len(keep.kept) == cfg.queries:
                    break
        stats = model.stats
    if not keep.kept:
        raise RuntimeError(f"no query survived {attempts} attempts (dropped: {keep.dropped})")
    produced = write_jsonl(
        job.output("queries") / "queries.jsonl", ({"id": query_id(i), "prompt": q} for i, q in enumerate(keep.kept))
    )
    log.info("kept %d of %d requested queries after %d attempts", produced, cfg.queries, attempts)
    return {
        "requested": cfg.queries,
        "produced": produced,
        "attempts": attempts,
        "attemptLimit": limit,
        "dropped": dict(keep.dropped),
        "hitTokenLimit": truncated,
        "fewShot": shots,
        "seeds": len(seeds),
        "queryPrompt": cfg.query_prompt,
        **stats.as_metrics(),
    }
