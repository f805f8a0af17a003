"""Oracle diagnostics of one finished bench cell (docs/worlds.md): what the synthetic data got right.

    .venv/bin/python bench/oracle_diagnostics.py --world <dir> --run <runs/<run>/ folder> --pattern <regex>

Reads the run's local copy (synthesis/queries, candidates, pool of each round) and the
world's oracle.py and train.jsonl, and prints ONE JSON object of aggregates only:

- generatorValidity: share of synthetic queries the oracle can parse (it names one known entity);
- poolCorrectness[stage]: share of (query, response) pairs whose extracted answer (the world's
  answerPattern) equals the oracle's, for all candidates before filtering and for each round's pool;
- coverage[stage]: share of the distinct private facts (oracle answers of the train prompts)
  that some pair of that stage states correctly;
- privateFacts: how many distinct private facts there are.

It runs on the data owner's machine (the bench's own); no record is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path


def load_answer(world: Path):
    spec = importlib.util.spec_from_file_location("world_oracle", world / "oracle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.answer


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def extract(pattern: re.Pattern, text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def stage_pairs(run: Path) -> dict[str, list[tuple[str, str]]]:
    """(prompt, response) pairs of each stage: candidates of round 0, then each round's pool."""
    synthesis = run / "synthesis"
    stages: dict[str, list[tuple[str, str]]] = {}
    candidates = read_jsonl(synthesis / "candidates" / "round-0" / "candidates.jsonl")
    if candidates:
        stages["candidates"] = [(c["prompt"], r) for c in candidates for r in c["candidates"]]
    pools = sorted((synthesis / "pool").glob("round-*.jsonl"), key=lambda p: int(p.stem.split("-")[1]))
    for pool in pools:
        stages[f"pool-{pool.stem}"] = [(r["prompt"], r["response"]) for r in read_jsonl(pool)]
    return stages


def diagnose(answer, pattern: re.Pattern, run: Path, train: list[dict]) -> dict:
    queries = read_jsonl(run / "synthesis" / "queries" / "queries.jsonl")
    valid = sum(1 for q in queries if answer(q["prompt"]) is not None)
    facts = {a for a in (answer(r["prompt"]) for r in train) if a is not None}
    correctness: dict[str, float | None] = {}
    coverage: dict[str, float | None] = {}
    for stage, pairs in stage_pairs(run).items():
        right = set()
        hits = 0
        for prompt, response in pairs:
            truth = answer(prompt)
            if truth is not None and extract(pattern, response) == truth:
                hits += 1
                right.add(truth)
        correctness[stage] = round(hits / len(pairs), 6) if pairs else None
        coverage[stage] = round(len(right & facts) / len(facts), 6) if facts and pairs else None
    return {
        "generatorValidity": round(valid / len(queries), 6) if queries else None,
        "poolCorrectness": correctness,
        "coverage": coverage,
        "privateFacts": len(facts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--pattern", required=True)
    args = parser.parse_args()
    train = read_jsonl(args.world / "train.jsonl")
    figures = diagnose(load_answer(args.world), re.compile(args.pattern), args.run, train)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
