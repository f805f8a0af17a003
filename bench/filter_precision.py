"""How often each selection rule picks a correct answer, on one run's scored candidates (docs/results.md).

    .venv/bin/python bench/filter_precision.py --world examples/worlds/harbor \
        --run <out>/work/runs/<run> [--run ...] [--alpha 0.5] [--keep-fraction 0.125]

A bench cell's pool holds 64 queries, so its pool correctness moves by 1.6 points per query
and cannot tell the filters apart at this scale. This script asks the same question of all
M queries at once, on the very candidates and scores the run's score job wrote (the cells of
one seed share them), so the rules are compared paired:

- per query: the share of queries whose chosen candidate is correct, for each rule
  (reward-fused at the run's α, reward alone, lowest perplexity, the first candidate) and
  for a uniformly random candidate (the mean correctness of its candidates); also over the
  "contested" queries only (at least one right and one wrong candidate), where a rule can
  make a difference;
- pool: the share correct among the top ⌊M·f⌋ queries when the pool is ranked by the
  chosen's reward (as the product ranks it for `reward` and `ppl`) and by the chosen's
  perplexity (a pool that never looks at the reward model).

Correct = the answer the world's `answerPattern` extracts equals the oracle's. Runs on the
data owner's machine; prints aggregates only, no record.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle_diagnostics import extract, load_answer, read_jsonl


def stable_ranks(values: list[float]) -> list[int]:
    """1-based ranks, ascending, ties in candidate order (core/selection/rank.ts's rule)."""
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    ranks = [0] * len(values)
    for position, index in enumerate(order):
        ranks[index] = position + 1
    return ranks


def fused_choice(candidates: list[dict], alpha: float) -> int:
    """Highest α·rank(reward ↑) + (1−α)·rank(perplexity ↓); ties: higher reward, then lower index."""
    by_reward = stable_ranks([c["reward"] for c in candidates])
    by_ppl = stable_ranks([-c["ppl"] for c in candidates])
    fused = [alpha * r + (1 - alpha) * p for r, p in zip(by_reward, by_ppl, strict=True)]
    return min(range(len(candidates)), key=lambda i: (-round(fused[i], 9), -candidates[i]["reward"], i))


RULES = {
    "reward (fused)": lambda c, alpha: fused_choice(c, alpha),
    "reward alone": lambda c, alpha: fused_choice(c, 1.0),
    "lowest perplexity": lambda c, alpha: fused_choice(c, 0.0),
    "first candidate": lambda c, alpha: 0,
}


def precision(run: Path, answer, pattern: re.Pattern, alpha: float, keep_fraction: float) -> dict:
    rows = read_jsonl(run / "synthesis" / "scores" / "round-0" / "scores.jsonl")
    if not rows:
        raise SystemExit(f"{run}: no synthesis/scores/round-0/scores.jsonl")
    right = []
    for row in rows:
        truth = answer(row["prompt"])
        right.append([truth is not None and extract(pattern, c["text"]) == truth for c in row["candidates"]])
    contested = [i for i, r in enumerate(right) if any(r) and not all(r)]
    keep = math.floor(len(rows) * keep_fraction + 1e-9)
    out: dict = {
        "queries": len(rows),
        "contested": len(contested),
        "perQuery": {"random candidate": round(sum(sum(r) / len(r) for r in right) / len(rows), 4)},
        "perQueryContested": {
            "random candidate": round(sum(sum(right[i]) / len(right[i]) for i in contested) / max(len(contested), 1), 4)
        },
        "pool": {"size": keep},
    }
    for name, rule in RULES.items():
        chosen = [rule(row["candidates"], alpha) for row in rows]
        hits = [right[i][chosen[i]] for i in range(len(rows))]
        out["perQuery"][name] = round(sum(hits) / len(rows), 4)
        out["perQueryContested"][name] = round(sum(hits[i] for i in contested) / max(len(contested), 1), 4)
        if name in ("reward (fused)", "lowest perplexity"):
            by_reward = sorted(range(len(rows)), key=lambda i: (-rows[i]["candidates"][chosen[i]]["reward"], i))
            out["pool"][f"{name}, ranked by reward"] = round(sum(hits[i] for i in by_reward[:keep]) / keep, 4)
        if name == "lowest perplexity":
            by_ppl = sorted(range(len(rows)), key=lambda i: (rows[i]["candidates"][chosen[i]]["ppl"], i))
            out["pool"][f"{name}, ranked by perplexity"] = round(sum(hits[i] for i in by_ppl[:keep]) / keep, 4)
    first = [r[0] for r in right]
    out["pool"]["first candidate, random pool (expected)"] = round(sum(first) / len(rows), 4)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--run", type=Path, action="append", required=True, help="a run's local copy; repeatable")
    parser.add_argument("--alpha", type=float, default=0.5, help="filter.alpha of the runs")
    parser.add_argument("--keep-fraction", type=float, default=0.125, help="filter.keepFraction of the runs")
    args = parser.parse_args()
    world = json.loads((args.world / "world.json").read_text(encoding="utf-8"))
    pattern = re.compile(world["answerPattern"])
    answer = load_answer(args.world)
    for run in args.run:
        print(json.dumps({"run": str(run), **precision(run, answer, pattern, args.alpha, args.keep_fraction)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
