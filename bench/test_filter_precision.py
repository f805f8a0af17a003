"""bench/filter_precision.py: the per-query rules follow core/selection/rank.ts, and the figures
count what a planted run holds.

cd jobs && ../.venv/bin/python -m pytest ../bench/test_filter_precision.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from filter_precision import fused_choice, precision

PATTERN = re.compile(r"berth ([A-Z]-\d{2})")


def answer(prompt: str) -> str | None:
    """A two-ship oracle: the berth of the ship the prompt names."""
    for ship, berth in (("Alda", "A-11"), ("Brio", "B-22")):
        if ship in prompt:
            return berth
    return None


def cand(text: str, reward: float, ppl: float) -> dict:
    return {"text": text, "reward": reward, "ppl": ppl}


def test_fused_choice_follows_the_products_rule():
    c = [cand("a", 1.0, 3.0), cand("b", 2.0, 9.0), cand("c", 0.5, 1.0)]
    assert fused_choice(c, 1.0) == 1  # highest reward
    assert fused_choice(c, 0.0) == 2  # lowest perplexity
    # α = 0.5: fused ranks a 2+2, b 3+1, c 1+3 — all 4; the tie goes to the higher reward.
    assert fused_choice(c, 0.5) == 1
    # Equal values are ranked in candidate order (a stable sort), so of two identical
    # candidates the later one ranks higher on both scales and is chosen, as in rank.ts.
    assert fused_choice([cand("x", 1.0, 2.0), cand("y", 1.0, 2.0)], 0.5) == 1


def test_counts_per_query_contested_and_pool_on_a_planted_run(tmp_path: Path):
    rows = [
        # Reward picks the wrong one, perplexity the right one: contested.
        {"prompt": "Where is the Alda?", "candidates": [cand("berth B-22", 5.0, 2.0), cand("berth A-11", 1.0, 1.0)]},
        # Both right: not contested.
        {"prompt": "Where is the Brio?", "candidates": [cand("berth B-22", 3.0, 1.5), cand("berth B-22.", 2.0, 1.2)]},
        # The oracle cannot parse the question: nothing is right.
        {"prompt": "Hello?", "candidates": [cand("at berth A-11", 9.0, 1.1), cand("no", 0.0, 4.0)]},
        # Both wrong.
        {"prompt": "The Alda?", "candidates": [cand("at berth C-33", 0.1, 3.0), cand("nowhere", 0.2, 5.0)]},
    ]
    scores = tmp_path / "synthesis" / "scores" / "round-0"
    scores.mkdir(parents=True)
    (scores / "scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    figures = precision(tmp_path, answer, PATTERN, alpha=1.0, keep_fraction=0.5)

    assert figures["queries"] == 4 and figures["contested"] == 1
    assert figures["perQuery"]["random candidate"] == 0.375  # (1/2 + 1 + 0 + 0) / 4
    assert figures["perQuery"]["reward alone"] == 0.25  # only the Brio query
    assert figures["perQuery"]["lowest perplexity"] == 0.5
    assert figures["perQuery"]["first candidate"] == 0.25
    assert figures["perQueryContested"]["reward alone"] == 0.0
    assert figures["perQueryContested"]["lowest perplexity"] == 1.0
    assert figures["perQueryContested"]["random candidate"] == 0.5
    # Pool of 2. Ranked by the chosen's reward: "Hello?" (9.0) and Alda (5.0), neither right.
    assert figures["pool"]["size"] == 2
    assert figures["pool"]["reward (fused), ranked by reward"] == 0.0
    # Lowest perplexity chosen, ranked by it: Hello (1.1, wrong) and Alda (1.0, right) → 1/2.
    assert figures["pool"]["lowest perplexity, ranked by perplexity"] == 0.5
