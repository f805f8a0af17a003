"""bench/reward_accuracy.py: the ranking arithmetic on a stand-in scorer, then a planted reward
proxy with a known preference in a run folder laid out as local mode lays it out.

cd jobs && ../.venv/bin/python -m pytest ../bench/test_reward_accuracy.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reward_accuracy import (
    answers_cache_file,
    held_out_pairs,
    measure,
    ranking_accuracy,
    stage_config,
    swapped_pairs,
)
from world_check import JOBS, run_stage, stage_env

from rewardds_jobs.contract import Job
from rewardds_jobs.stages import build_pairs as build_pairs_stage

GOOD = "Cool it under running water and see a nurse."
BAD = "No."


def test_ranking_counts_wins_and_half_ties_on_a_known_scorer():
    # The stand-in prefers longer answers: two true answers win, one loses, one ties.
    pairs = [("q1", "long answer", "x"), ("q2", "longer answer", "y"), ("q3", "a", "bbb"), ("q4", "cc", "dd")]
    figures = ranking_accuracy(pairs, lambda batch: [float(len(text)) for _, text in batch])
    assert figures == {"accuracy": 0.625, "pairs": 4, "ties": 1}


def test_swapped_pairs_change_only_the_fact_to_the_next_different_one():
    records = [
        {"prompt": "q1", "response": "It docks at berth A-11, by the crane."},
        {"prompt": "q2", "response": "Berth? berth A-11."},  # same fact as q1: skipped as a donor
        {"prompt": "q3", "response": "No berth here."},  # no fact: neither a pair nor a donor
        {"prompt": "q4", "response": "At berth C-33."},
    ]
    pairs = swapped_pairs(records, re.compile(r"berth ([A-Z]-\d{2})"))
    assert pairs == [
        ("q1", "It docks at berth A-11, by the crane.", "It docks at berth C-33, by the crane."),
        ("q2", "Berth? berth A-11.", "Berth? berth C-33."),
        ("q4", "At berth C-33.", "At berth A-11."),
    ]


def test_no_pairs_is_absent_not_zero():
    assert ranking_accuracy([], lambda batch: []) == {"accuracy": None, "pairs": 0, "ties": 0}


def test_a_base_answer_equal_to_the_reference_is_left_out_and_counted():
    records = [{"prompt": "q1", "response": "a"}, {"prompt": "q2", "response": "b"}]
    pairs, identical = held_out_pairs(records, ["a", "z"])
    assert pairs == [("q2", "b", "z")]
    assert identical == 1


# ---- a planted reward proxy in a local-mode run folder ------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "proxy"
    subprocess.run(
        [sys.executable, "-m", "rewardds_jobs", "make-tiny-model", "--out", str(out), "--seed", "0"],
        cwd=JOBS,
        env=stage_env(out.parent, {}),
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def planted_reward(base, tmp_path_factory) -> Path:
    """The real train-reward stage, noise-free, taught one steady preference: GOOD ≻ BAD."""
    root = tmp_path_factory.mktemp("train-reward")
    pairs = root / "data" / "pairs"
    pairs.mkdir(parents=True)
    records = [
        {
            "id": f"p-{i}",
            "pairs": [{"prompt": f"How do I treat a burn? (case {i})", "chosen": GOOD, "rejected": BAD}],
        }
        for i in range(8)
    ]
    (pairs / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    config = {
        "seed": 7,
        "epochs": 8,
        "batchSize": 8,
        "learningRate": 3e-2,
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
        "maxLength": 64,
        "noiseMultiplier": 0.0,
        "clipNorm": 10.0,
        "delta": 1e-5,
    }
    run_stage("train-reward", root / "job", {"pairs": pairs, "base": base}, config)
    return root / "job" / "model"


def lay_out_run(run: Path, reward: Path, test: list[dict]) -> None:
    """The folders local mode copies a run into: job records, configs, outputs, inputs."""

    def job(zone: str, name: str, stage: str, round_: int | None, config: dict) -> None:
        (run / zone / "jobs").mkdir(parents=True, exist_ok=True)
        record = {"jobName": name, "stage": stage, "round": round_, "zone": zone}
        (run / zone / "jobs" / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")
        (run / zone / "config" / name).mkdir(parents=True, exist_ok=True)
        (run / zone / "config" / name / "config.json").write_text(json.dumps(config), encoding="utf-8")

    job("private", "rw-tr-a0", "train-reward", None, {})
    job("private", "rw-bp-a0", "build-pairs", None, {"seed": 3, "maxNewTokens": 6, "maxLength": 64, "batchSize": 4})
    job("synthesis", "rw-ss0-a0", "score", 0, {"maxLength": 64, "batchSize": 2})
    job("synthesis", "rw-ss1-a0", "score", 1, {"maxLength": 32, "batchSize": 8})
    shutil.copytree(reward, run / "private" / "reward" / "rw-tr-a0" / "output" / "model")
    (run / "private" / "input").mkdir(parents=True, exist_ok=True)
    (run / "private" / "input" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test), encoding="utf-8")


def burn_records(n: int) -> list[dict]:
    return [{"id": f"t-{i}", "prompt": f"How do I treat a burn? (case {100 + i})", "response": GOOD} for i in range(n)]


@pytest.mark.slow
def test_a_planted_preference_gives_the_known_accuracy(tmp_path, base, planted_reward):
    run = tmp_path / "runs" / "w-1"
    test = burn_records(5)
    test[3]["response"] = BAD  # here the reference is the disliked answer: the proxy ranks it lower
    lay_out_run(run, planted_reward, test)
    cache = tmp_path / "reference"
    # The base's answers, planted where the script caches them: BAD, except one GOOD, and one
    # equal to its reference (left out).
    planted = [BAD, BAD, BAD, GOOD, GOOD]
    build_pairs = stage_config(run, "private", "build-pairs")
    path = answers_cache_file(base, run / "private" / "input" / "test.jsonl", build_pairs, cache)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(planted), encoding="utf-8")

    figures = measure(run, base, cache)
    # Records 0–2: GOOD vs BAD, right; record 3: BAD (true) vs GOOD, wrong; record 4: identical.
    assert figures == {
        "accuracy": 0.75,
        "pairs": 4,
        "ties": 0,
        "identicalLeftOut": 1,
        "testRecords": 5,
        "baseAnswersCached": True,
    }


@pytest.mark.slow
def test_base_answers_are_build_pairs_answers_and_computed_once(tmp_path, base, planted_reward):
    run = tmp_path / "runs" / "w-2"
    test = burn_records(3)
    lay_out_run(run, planted_reward, test)
    cache = tmp_path / "reference"
    first = measure(run, base, cache)
    assert first["baseAnswersCached"] is False and first["testRecords"] == 3
    assert first["pairs"] + first["identicalLeftOut"] == 3
    # A second cell of the same base and test set reads them back instead of generating again.
    assert measure(run, base, cache) == {**first, "baseAnswersCached": True}
    # So does a cell of another grid seed: its build-pairs seed differs, its greedy answers do not.
    config = run / "private" / "config" / "rw-bp-a0" / "config.json"
    other_seed = tmp_path / "runs" / "w-3"
    shutil.copytree(run, other_seed)
    (other_seed / "private" / "config" / "rw-bp-a0" / "config.json").write_text(
        json.dumps({**json.loads(config.read_text()), "seed": 4}), encoding="utf-8"
    )
    assert measure(other_seed, base, cache)["baseAnswersCached"] is True
    build_pairs = stage_config(run, "private", "build-pairs")
    cached = json.loads(
        answers_cache_file(base, run / "private" / "input" / "test.jsonl", build_pairs, cache).read_text()
    )

    # The build-pairs stage itself, given the same records and settings (its seed 3, ours 0:
    # greedy), rejects exactly these answers.
    data = tmp_path / "bp-data" / "train"
    data.mkdir(parents=True)
    shutil.copyfile(run / "private" / "input" / "test.jsonl", data / "train.jsonl")
    generator = make_generator_adapter(base, tmp_path / "generator")
    root = tmp_path / "bp"
    channels = {"train": data, "base": base, "generator": generator, "config": run / "private" / "config" / "rw-bp-a0"}
    build_pairs_stage.run(Job.from_env("build-pairs", stage_env(root, channels)))
    written = (root / "processing" / "output" / "pairs" / "pairs.jsonl").read_text().splitlines()
    assert [json.loads(line)["pairs"][0]["rejected"] for line in written] == cached


def make_generator_adapter(base: Path, out: Path) -> Path:
    """A real (untrained) causal LoRA adapter: build-pairs needs a generator beside the base."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from rewardds_jobs.models import load_tokenizer, lora_target_modules

    model = AutoModelForCausalLM.from_pretrained(str(base))
    config = LoraConfig(r=2, lora_alpha=4, target_modules=lora_target_modules(model), task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(str(out))
    load_tokenizer(base).save_pretrained(str(out))
    return out
