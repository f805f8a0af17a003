"""evaluate: metric functions on hand-worked cases, and the job's aggregate-only table."""

from __future__ import annotations

import json
import math

import pytest
from conftest import fixture_records, run_job, sagemaker_layout

from rewardds_jobs.config import parse_stage_config
from rewardds_jobs.failure import JobInputError
from rewardds_jobs.metrics_text import (
    answer_accuracy,
    bleu,
    compile_answer_pattern,
    exact_match,
    extract_answer,
    rouge_l,
    score_all,
)


def test_exact_match_folds_whitespace_and_case():
    assert exact_match(["Take  Rest.", "no"], ["take rest.", "yes"]) == 0.5


def test_rouge_l_on_hand_worked_example():
    # LCS of "the cat sat" and "the cat sat down" is 3 tokens: P = 1, R = 3/4, F = 6/7.
    assert math.isclose(rouge_l(["the cat sat"], ["the cat sat down"]), 6 / 7)
    assert rouge_l(["", "x"], ["a b", "x"]) == 0.5


def test_bleu_is_100_for_identical_and_0_for_disjoint_corpora():
    refs = ["the patient should rest and drink water", "a bond is a loan to an issuer"]
    assert math.isclose(bleu(refs, refs), 100.0)
    assert bleu(["zzz qqq", "www"], refs) == 0.0
    assert set(score_all(["bleu"], refs, refs)) == {"bleu"}
    with pytest.raises(ValueError):
        exact_match(["a"], ["a", "b"])


def test_evaluate_job_reports_base_and_each_round_in_order(tmp_path, tiny_target_base, target_adapter):
    tests = fixture_records(3, prefix="t")
    inputs = {
        "test": tests,
        "target_base": tiny_target_base,
        "adapter-round-1": target_adapter,
        "adapter-round-0": target_adapter,
    }
    layout = sagemaker_layout(
        tmp_path, "evaluate", inputs, {"seed": 0, "maxNewTokens": 6, "metrics": ["rougeL", "exactMatch"]}
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    table = json.loads((layout.output("eval") / "metrics.json").read_text())
    # Exactly what the release Lambda's strict schema admits (functions/release/evaluation.ts).
    assert set(table) == {"rows", "stage", "seconds"} and table["stage"] == "evaluate"
    assert [row["model"] for row in table["rows"]] == ["base", "round-0", "round-1"]
    for row in table["rows"]:
        assert set(row) == {"model", "n", "rougeL", "exactMatch"} and row["n"] == 3
        assert 0.0 <= row["rougeL"] <= 1.0 and 0.0 <= row["exactMatch"] <= 1.0
    # Round 0 and 1 share the adapter here, so greedy decoding gives the same numbers.
    assert table["rows"][1]["rougeL"] == table["rows"][2]["rougeL"]
    # Aggregates only: no answer, prompt or reference text in what leaves the private zone.
    text = json.dumps(table)
    assert all(r["prompt"] not in text and r["response"] not in text for r in tests)
    assert [p.name for p in layout.output("eval").iterdir()] == ["metrics.json"]


BERTH = compile_answer_pattern(r"berth ([A-Z]-\d{2})")


def test_answer_accuracy_compares_extracted_answers():
    predictions = ["It docks at berth K-12.", "Try berth B-40", "berth k-12 is wrong case only", "no idea"]
    references = ["The ship docks at berth K-12.", "The ship docks at berth B-41.", "berth K-12", "berth C-10"]
    # 1 equal, 1 different, 1 lower-case letter (the regex asks for [A-Z]: no match, wrong), 1 no match (wrong).
    assert answer_accuracy(BERTH, predictions, references) == {"answerAccuracy": 0.25, "answerN": 4}


def test_answer_accuracy_leaves_out_references_without_an_answer():
    predictions = ["berth K-12", "berth K-12", "berth A-99"]
    references = ["berth K-12", "a reference with no code", "berth A-99"]
    assert answer_accuracy(BERTH, predictions, references) == {"answerAccuracy": 1.0, "answerN": 2}
    # Nothing checkable: the accuracy is absent, not 0.
    assert answer_accuracy(BERTH, ["berth K-12"], ["no code"]) == {"answerN": 0}
    assert extract_answer(compile_answer_pattern(r"dose (\d+)\s*mg"), "A dose 250 mg twice") == "250"
    with pytest.raises(ValueError):
        answer_accuracy(BERTH, ["a"], ["a", "b"])


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"berth [A-Z]-\d{2}", "exactly one capturing group, has 0"), (r"(a)(b)", "has 2"), ("(", "not a valid")],
)
def test_answer_pattern_needs_one_group_and_the_config_names_the_key(pattern, reason):
    with pytest.raises(ValueError, match=reason):
        compile_answer_pattern(pattern)
    with pytest.raises(JobInputError, match="answerPattern") as error:
        parse_stage_config("evaluate", {"answerPattern": pattern})
    assert reason.split(",")[0] in str(error.value)
    assert parse_stage_config("evaluate", {}).answer_pattern is None


def test_evaluate_job_adds_answer_accuracy_when_the_config_names_a_pattern(tmp_path, tiny_target_base):
    tests = [
        {"id": "t-1", "prompt": "Where does the Orla dock?", "response": "The Orla docks at berth K-12."},
        {"id": "t-2", "prompt": "Where does the Venn dock?", "response": "The Venn docks at berth B-40."},
        {"id": "t-3", "prompt": "Is the harbor open?", "response": "Yes, every day."},
    ]
    config = {"seed": 0, "maxNewTokens": 6, "metrics": ["exactMatch"], "answerPattern": r"berth ([A-Z]-\d{2})"}
    layout = sagemaker_layout(tmp_path, "evaluate", {"test": tests, "target_base": tiny_target_base}, config)
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads((layout.output("eval") / "metrics.json").read_text())["rows"]
    # A random tiny model writes no berth code: every checkable answer is wrong, t-3 is left out.
    assert row == {"model": "base", "n": 3, "exactMatch": 0.0, "answerAccuracy": 0.0, "answerN": 2}


def test_evaluate_job_reads_every_round_from_one_adapters_input(tmp_path, tiny_target_base, target_adapter):
    """The request builder passes one `adapters` prefix (SageMaker allows 10 ProcessingInputs)
    and names each round's folder in REWARDDS_ADAPTER_ROUND_<r>; a failed attempt's folder
    beside it is never read."""
    tests = fixture_records(2, prefix="t")
    adapters = tmp_path / "target"
    for r in (0, 1):
        (adapters / f"round-{r}" / f"rds-tt{r}-a0" / "output").mkdir(parents=True)
        (adapters / f"round-{r}" / f"rds-tt{r}-a0" / "output" / "model").symlink_to(target_adapter)
    # An earlier, failed attempt of round 1 left an empty folder: not named, so not read.
    (adapters / "round-1" / "rds-tt1-a9" / "output" / "model").mkdir(parents=True)
    layout = sagemaker_layout(
        tmp_path,
        "evaluate",
        {"test": tests, "target_base": tiny_target_base, "adapters": adapters},
        {"seed": 0, "maxNewTokens": 4, "metrics": ["exactMatch"]},
    )
    layout.env.update(
        {
            "REWARDDS_ADAPTER_ROUND_1": "round-1/rds-tt1-a0/output/model/",
            "REWARDDS_ADAPTER_ROUND_0": "round-0/rds-tt0-a0/output/model/",
        }
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    table = json.loads((layout.output("eval") / "metrics.json").read_text())
    assert [row["model"] for row in table["rows"]] == ["base", "round-0", "round-1"]


def test_evaluate_job_refuses_an_adapter_folder_outside_its_input(tmp_path, tiny_target_base, target_adapter):
    layout = sagemaker_layout(
        tmp_path,
        "evaluate",
        {"test": fixture_records(1, prefix="t"), "target_base": tiny_target_base, "adapters": target_adapter},
        {"seed": 0, "maxNewTokens": 4, "metrics": ["exactMatch"]},
    )
    layout.env["REWARDDS_ADAPTER_ROUND_0"] = "../../elsewhere/"
    result = run_job(layout)
    assert result.returncode != 0
    assert "REWARDDS_ADAPTER_ROUND_0" in result.stderr
