"""build-pairs end to end: one line per private record, its three pairs, ids carried through."""

from __future__ import annotations

from conftest import run_job, sagemaker_layout

from rewardds_jobs.generate import Generator, ModelSpec
from rewardds_jobs.stages.build_pairs import input_budget, record_pairs


def greedy_answers(spec: ModelSpec, prompts: list[str]) -> list[str]:
    """Each prompt's greedy answer from a model loaded on its own, with the job's settings below."""
    with Generator(spec, batch_size=3) as model:
        answers = model.generate(prompts, greedy=True, max_new_tokens=6, seed=0, max_input_tokens=input_budget(128, 6))
    return [a[0] for a in answers]


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
    # Provenance: b is the bare base's answer, g the generator adapter's, each loaded alone here.
    prompts = [r["prompt"] for r in records]
    base_only = greedy_answers(ModelSpec(tiny_base, name="base"), prompts)
    generator = greedy_answers(ModelSpec(tiny_base, generator_adapter, name="generator"), prompts)
    assert base_only != generator, "the adapter must change the answers, or swapping them goes unseen"
    assert [line["pairs"][0]["rejected"] for line in lines] == base_only
    assert [line["pairs"][1]["rejected"] for line in lines] == generator
    metrics = layout.metrics("pairs")
    assert metrics["stage"] == "build-pairs" and metrics["records"] == 4 and metrics["pairs"] == 12
    assert metrics["seconds"] > 0 and metrics["sequences"] == 8
    assert not layout.failure.exists()
