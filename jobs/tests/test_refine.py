"""refine: G's critique, then the previous round's target writes n improved responses per working item."""

from __future__ import annotations

from conftest import run_job, sagemaker_layout

from rewardds_jobs.prompts import critique_prompt, improvement_prompt

WORKING = [
    {
        "id": "q-000003",
        "prompt": "Is 38C a fever?",
        "chosen": "Yes, a mild one.",
        "rejected": "No idea.",
        "reward": 0.4,
    },
    {
        "id": "q-000007",
        "prompt": "What is a bond?",
        "chosen": "A loan to an issuer.",
        "rejected": "Stock.",
        "reward": -1,
    },
]


def test_prompts_carry_query_answers_and_critique():
    critique = critique_prompt("Q?", "good answer", "bad answer")
    assert "Q?" in critique and critique.index("good answer") < critique.index("bad answer")
    improve = improvement_prompt("Q?", "good answer", "needs a number")
    assert all(part in improve for part in ("Q?", "good answer", "needs a number"))


def test_refine_job(tmp_path, tiny_base, generator_adapter, tiny_target_base, target_adapter):
    inputs = {
        "base": tiny_base,
        "generator": generator_adapter,
        "target_base": tiny_target_base,
        "target": target_adapter,
        "working": WORKING,
    }
    config = {
        "seed": 0,
        "round": 1,
        "candidates": 2,
        "temperature": 1.0,
        "topP": 0.7,
        "maxNewTokens": 6,
        "critiqueMaxNewTokens": 6,
    }
    layout = sagemaker_layout(tmp_path, "refine", inputs, config)
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = layout.read_jsonl("candidates")
    assert [(c["id"], c["prompt"]) for c in lines] == [(w["id"], w["prompt"]) for w in WORKING]
    assert all(len(c["candidates"]) == 2 for c in lines)
    metrics = layout.metrics("candidates")
    assert metrics["round"] == 1 and metrics["items"] == 2 and metrics["candidates"] == 4
    assert metrics["critiqueSequences"] == 2 and metrics["targetSequences"] == 4

    round_two = sagemaker_layout(tmp_path / "r2", "refine", inputs, {**config, "round": 2})
    assert run_job(round_two).returncode == 0
    assert round_two.read_jsonl("candidates") != lines  # each round draws fresh samples
