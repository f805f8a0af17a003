"""train-target end to end: plain LoRA SFT on the pool, continuing the previous round's adapter."""

import torch
from conftest import fixture_records
from safetensors.torch import load_file

from rewardds_jobs.models import load_causal_lm

CONFIG = {
    "seed": 3,
    "epochs": 2,
    "batchSize": 4,
    "learningRate": 1e-2,
    "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
    "maxLength": 64,
}
TARGET_METRIC_KEYS = {
    "stage",
    "records",
    "epochs",
    "steps",
    "resumed",
    "losses",
    "lossFirst",
    "lossLast",
    "tokensPerSecond",
    "seconds",
}


def pool(n):
    return [{**r, "reward": 0.5 + i} for i, r in enumerate(fixture_records(n, prefix="q"))]


def adapter_tensors(folder):
    return load_file(str(folder / "adapter_model.safetensors"))


def test_round_zero_then_round_one_continues_the_adapter(tmp_path, tiny_target_base, sagemaker_layout, run_job):
    round0 = sagemaker_layout(
        tmp_path / "r0", "train-target", {"pool": pool(6), "target_base": tiny_target_base}, CONFIG
    )
    done = run_job(round0)
    assert done.returncode == 0, done.stderr[-2000:]
    m0 = round0.metrics()
    assert set(m0) == TARGET_METRIC_KEYS and m0["stage"] == "train-target"
    assert m0["records"] == 6 and m0["steps"] == 2 * 2 and m0["resumed"] is False
    assert len(m0["losses"]) == 4 and m0["tokensPerSecond"] > 0
    first = adapter_tensors(round0.model_dir)
    assert all(v.abs().sum() > 0 for k, v in first.items() if "lora_B" in k)

    round1 = sagemaker_layout(
        tmp_path / "r1",
        "train-target",
        {"pool": pool(5), "target_base": tiny_target_base, "target": round0.model_dir},
        CONFIG,
    )
    done = run_job(round1)
    assert done.returncode == 0, done.stderr[-2000:]
    m1 = round1.metrics()
    assert m1["resumed"] is True and m1["records"] == 5
    second = adapter_tensors(round1.model_dir)
    assert second.keys() == first.keys()
    assert any(not torch.equal(second[k], first[k]) for k in first)
    # Continued, not restarted: round 1's first loss starts where round 0 left off,
    # below round 0's first loss on the same kind of data.
    assert m1["lossFirst"] < m0["lossFirst"]

    model = load_causal_lm(tiny_target_base, round1.model_dir, device=torch.device("cpu"))
    with torch.no_grad():
        assert model(input_ids=torch.tensor([[3, 4, 5]])).logits.shape[:2] == (1, 3)


def test_a_pool_line_without_response_fails_cleanly(tmp_path, tiny_target_base, sagemaker_layout, run_job):
    records = pool(2)
    del records[1]["response"]
    layout = sagemaker_layout(tmp_path, "train-target", {"pool": records, "target_base": tiny_target_base}, CONFIG)
    done = run_job(layout)
    assert done.returncode == 1
    assert layout.failure.read_text().strip() == "pool/pool.jsonl:2: response: missing"
