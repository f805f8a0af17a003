"""sample-candidates: n candidates per query, ids and prompts carried through, reproducible."""

from __future__ import annotations

from conftest import run_job, sagemaker_layout

QUERIES = [{"id": f"q-{i:06d}", "prompt": p} for i, p in enumerate(["Is 38C a fever?", "What is a bond?", "Why save?"])]


def test_sample_candidates_job(tmp_path, tiny_base, generator_adapter):
    config = {"seed": 4, "candidates": 3, "temperature": 1.0, "topP": 0.7, "maxNewTokens": 6}
    inputs = {"base": tiny_base, "generator": generator_adapter, "queries": QUERIES}
    layout = sagemaker_layout(tmp_path, "sample-candidates", inputs, config)
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = layout.read_jsonl("candidates")
    assert [(c["id"], c["prompt"]) for c in lines] == [(q["id"], q["prompt"]) for q in QUERIES]
    assert all(len(c["candidates"]) == 3 and all(isinstance(t, str) for t in c["candidates"]) for c in lines)
    metrics = layout.metrics("candidates")
    assert metrics["queries"] == 3 and metrics["candidates"] == 9 and metrics["candidatesPerQuery"] == 3

    other = sagemaker_layout(tmp_path / "other", "sample-candidates", inputs, {**config, "seed": 5})
    assert run_job(other).returncode == 0
    assert other.read_jsonl("candidates") != lines
