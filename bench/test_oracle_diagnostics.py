"""bench/oracle_diagnostics.py on a hand-made run folder and a two-ship world.

.venv/bin/python -m pytest bench/test_oracle_diagnostics.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from oracle_diagnostics import diagnose, load_answer

PATTERN = re.compile(r"berth ([A-Z]-\d{2})")
ORACLE = """
BERTHS = {"Alpha": "A-11", "Beta": "B-22"}
def answer(prompt):
    named = [code for ship, code in BERTHS.items() if ship in prompt]
    return named[0] if len(named) == 1 else None
"""


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def world_and_run(tmp_path: Path):
    world = tmp_path / "world"
    world.mkdir()
    (world / "oracle.py").write_text(ORACLE, encoding="utf-8")
    train = [{"prompt": "Where is the Alpha?"}, {"prompt": "Where is the Beta?"}, {"prompt": "Hello"}]
    run = tmp_path / "run" / "synthesis"
    write_jsonl(
        run / "queries" / "queries.jsonl",
        [{"id": "q1", "prompt": "Where is the Alpha?"}, {"id": "q2", "prompt": "Where is nobody?"}],
    )
    write_jsonl(
        run / "candidates" / "round-0" / "candidates.jsonl",
        [
            {"id": "q1", "prompt": "Where is the Alpha?", "candidates": ["at berth A-11", "at berth B-22"]},
            {"id": "q2", "prompt": "Where is nobody?", "candidates": ["at berth A-11", "nowhere"]},
        ],
    )
    write_jsonl(run / "pool" / "round-0.jsonl", [{"prompt": "Where is the Alpha?", "response": "at berth A-11"}])
    write_jsonl(run / "pool" / "round-1.jsonl", [{"prompt": "Where is the Alpha?", "response": "at berth B-22"}])
    return world, tmp_path / "run", train


def test_correctness_coverage_and_validity(world_and_run):
    world, run, train = world_and_run
    figures = diagnose(load_answer(world), PATTERN, run, train)
    assert figures == {
        "generatorValidity": 0.5,
        # One of four candidates carries the oracle's answer (an unparseable query's never counts).
        "poolCorrectness": {"candidates": 0.25, "pool-round-0": 1.0, "pool-round-1": 0.0},
        "coverage": {"candidates": 0.5, "pool-round-0": 0.5, "pool-round-1": 0.0},
        "privateFacts": 2,
    }


def test_a_stage_without_pairs_is_absent_not_zero(world_and_run):
    world, run, train = world_and_run
    (run / "synthesis" / "pool" / "round-1.jsonl").write_text("", encoding="utf-8")
    figures = diagnose(load_answer(world), PATTERN, run, train)
    assert figures["poolCorrectness"]["pool-round-1"] is None
    assert figures["coverage"]["pool-round-1"] is None
