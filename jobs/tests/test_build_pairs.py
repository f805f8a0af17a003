"""build-pairs end to end: one line per private record, its three pairs, ids carried through."""

from __future__ import annotations

from conftest import run_job, sagemaker_layout

from rewardds_jobs.stages.build_pairs import input_budget, record_pairs


def test_pairs_are_truth_over_base_truth_over_generator_generator_over_base():
    assert record_pairs("q", "a", "b", "g") == [
        {"prompt": "q", "chosen": "a", "rejected": "b"},
        {"prompt": "q", "chosen": "a", "rejected": "g"},
        {"prompt": "q", "chosen": "g", "rejected": "b"},
    ]
    assert input_budget(1024, 512) == 512 and input_budget(32, 64) == 16


def test_build_pairs_job(tmp_path, tiny_base, generator_adapter, records):
    layout = sagemaker_layout(
        tmp_path,
        "build-pairs",
        {"train": records, "base": tiny_base, "generator": generator_adapter},
        {"seed": 0, "maxNewTokens": 6, "maxLength": 128, "batchSize": 3},
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = layout.read_jsonl("pairs")
    assert [line["id"] for line in lines] == [r["id"] for r in records]
    for line, record in zip(lines, records, strict=True):
        assert set(line) == {"id", "pairs"} and len(line["pairs"]) == 3
        a_b, a_g, g_b = line["pairs"]
        assert all(p["prompt"] == record["prompt"] for p in line["pairs"])
        assert a_b["chosen"] == a_g["chosen"] == record["response"]
        assert a_g["rejected"] == g_b["chosen"] and a_b["rejected"] == g_b["rejected"]
        assert all(isinstance(p[k], str) for p in line["pairs"] for k in ("chosen", "rejected"))
    metrics = layout.metrics("pairs")
    assert metrics["stage"] == "build-pairs" and metrics["records"] == 4 and metrics["pairs"] == 12
    assert metrics["seconds"] > 0 and metrics["sequences"] == 8
    assert not layout.failure.exists()
