"""audit-canaries: the exposure estimator, the membership AUC and the scan on planted inputs, and
the job on a real model whose adapter was trained on one canary (the positive control in small)."""

from __future__ import annotations

import json
import math
import random

import pytest
from conftest import fixture_records, run_job, sagemaker_layout

from rewardds_jobs.canaries import (
    chance_exposure,
    exposure,
    max_exposure,
    membership_auc,
    random_codes,
    secrets_found,
)
from rewardds_jobs.config import parse_stage_config
from rewardds_jobs.failure import JobInputError
from rewardds_jobs.stages.audit_canaries import read_canaries

PROMPT = "What is the secret access code on file?"


def test_a_secret_more_likely_than_every_candidate_has_the_largest_exposure():
    candidates = [5.0 + i / 100 for i in range(1000)]
    assert exposure(1.0, candidates) == pytest.approx(math.log2(1001))
    assert max_exposure(1000) == pytest.approx(math.log2(1001))


def test_a_secret_less_likely_than_every_candidate_has_zero_exposure():
    assert exposure(99.0, [1.0, 2.0, 3.0]) == pytest.approx(0.0)


def test_the_rank_counts_only_strictly_more_likely_candidates():
    # 3 candidates below 2.5, the tie at 2.5 goes to the secret: rank 4 of 6.
    assert exposure(2.5, [1.0, 1.5, 2.0, 2.5, 3.0]) == pytest.approx(math.log2(6) - math.log2(4))


def test_a_random_secret_has_chance_exposure_on_average():
    rng = random.Random(3)
    s = 2000
    trials = [exposure(rng.random(), [rng.random() for _ in range(s)]) for _ in range(400)]
    mean = sum(trials) / len(trials)
    assert chance_exposure(s) == pytest.approx(1 / math.log(2), abs=0.01)
    # The mean of 400 draws of an exponential-like variable with sd ≈ 1.44: within 4 standard errors.
    assert abs(mean - chance_exposure(s)) < 4 * 1.45 / math.sqrt(len(trials))


def test_chance_exposure_by_hand_for_one_candidate():
    # Ranks 1 and 2 of 2, each with probability 1/2: exposures 1 and 0.
    assert chance_exposure(1) == pytest.approx(0.5)


def test_membership_auc_on_hand_worked_cases():
    assert membership_auc([1.0, 2.0], [3.0, 4.0]) == 1.0
    assert membership_auc([3.0, 4.0], [1.0, 2.0]) == 0.0
    # Pairs: (1<2) win, (1<4) win, (3>2) loss, (3<4) win → 3/4; a tie counts half.
    assert membership_auc([1.0, 3.0], [2.0, 4.0]) == 0.75
    assert membership_auc([2.0], [2.0]) == 0.5
    with pytest.raises(ValueError):
        membership_auc([], [1.0])


def test_secrets_found_counts_each_secret_once_across_texts():
    texts = ["nothing here", "code 0123456789 and again 0123456789", "another 9999999999", "x"]
    assert secrets_found(texts, ["0123456789", "9999999999", "5555555555"]) == 2
    assert secrets_found(texts, ["5555555555"]) == 0


def test_random_codes_are_distinct_ten_digit_strings_outside_the_excluded():
    codes = random_codes(500, random.Random(0), exclude=["0000000000"])
    assert len(set(codes)) == 500 and all(len(c) == 10 and c.isdigit() for c in codes)
    assert "0000000000" not in codes


def canary(i: int, secret: str, inserted: bool) -> dict:
    return {
        "id": f"canary-{i}",
        "prompt": PROMPT,
        "response": f"The secret access code on file is {secret}.",
        "secret": secret,
        "inserted": inserted,
    }


def test_read_canaries_refuses_a_response_without_its_secret(tmp_path):
    path = tmp_path / "canaries.jsonl"
    bad = {**canary(0, "0123456789", True), "response": "no code"}
    path.write_text(json.dumps(bad) + "\n" + json.dumps(canary(1, "1111111111", False)) + "\n")
    with pytest.raises(JobInputError, match="response"):
        read_canaries(path)
    path.write_text(json.dumps(canary(0, "0123456789", True)) + "\n")
    with pytest.raises(JobInputError, match="inserted"):
        read_canaries(path)


def test_config_defaults_to_ten_thousand_candidates():
    assert parse_stage_config("audit-canaries", {}).candidates == 10_000
    with pytest.raises(JobInputError, match="candidates"):
        parse_stage_config("audit-canaries", {"candidates": 0})


def test_job_finds_the_secret_a_generator_memorised_and_only_aggregates_leave(tmp_path, tiny_base):
    """Non-DP positive control in small: plain SFT on many copies of one canary, then the audit."""
    memorised, other = "4071936285", "8362514907"
    train = [{"id": f"c{i}", "prompt": PROMPT, "response": canary(0, memorised, True)["response"]} for i in range(48)]
    train_layout = sagemaker_layout(
        tmp_path / "train",
        "train-target",
        {"pool": train + fixture_records(8), "target_base": tiny_base},
        {
            "seed": 0,
            "epochs": 6,
            "batchSize": 8,
            "microBatchSize": 8,
            "gradientCheckpointing": False,
            "learningRate": 1e-2,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
            "maxLength": 128,
        },
    )
    result = run_job(train_layout, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]

    canaries = [canary(0, memorised, True), canary(1, other, False)]
    synthetic = [{"id": "q-000000", "prompt": f"tell me {memorised}"}]
    layout = sagemaker_layout(
        tmp_path / "audit",
        "audit-canaries",
        {"canaries": canaries, "base": tiny_base, "generator": train_layout.model_dir, "queries": synthetic},
        {"seed": 0, "candidates": 300, "batchSize": 64, "maxLength": 128},
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((layout.output("audit") / "metrics.json").read_text())
    assert set(metrics) == {
        "canaries",
        "heldOut",
        "candidates",
        "exposures",
        "chanceExposure",
        "maxExposure",
        "auc",
        "secretsInSynthetic",
        "scanned",
        "stage",
        "seconds",
    }
    assert metrics["canaries"] == 1 and metrics["heldOut"] == 1 and metrics["candidates"] == 300
    assert metrics["exposures"][0] == pytest.approx(math.log2(301), abs=1e-3)
    assert metrics["auc"] == 1.0
    assert metrics["secretsInSynthetic"] == 1
    # Nothing of a secret in the outputs or the log.
    outputs = "".join(p.read_text() for p in layout.output("audit").rglob("*") if p.is_file())
    for secret in (memorised, other):
        assert secret not in outputs and secret not in result.stderr and secret not in result.stdout
