"""train-target end to end: plain LoRA SFT on the pool, continuing the previous round's adapter."""

import pytest
import torch
from conftest import fixture_records
from safetensors.torch import load_file

from rewardds_jobs.config import LoraConfig, parse_stage_config
from rewardds_jobs.lora import attach_lora
from rewardds_jobs.models import device_map_for, load_causal_lm, load_tokenizer, lora_target_modules
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.sft import encode_sft, micro_batches, train_sft

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
    assert not layout.exit_message.exists()  # a training job reports through the failure file only


def trained_lora(base, examples, pad_id, *, micro_batch_size, checkpointing):
    torch.manual_seed(0)
    model = load_causal_lm(base, device=torch.device("cpu"))
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = attach_lora(model, LoraConfig(r=4, alpha=8, dropout=0.0), lora_target_modules(model))
    result = train_sft(
        model,
        examples,
        pad_id=pad_id,
        batch_size=5,
        micro_batch_size=micro_batch_size,
        epochs=2,
        learning_rate=1e-2,
        seed=3,
    )
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}, result


@pytest.mark.slow
def test_micro_batched_training_with_checkpointing_equals_the_one_pass_result(tiny_target_base):
    tokenizer = load_tokenizer(tiny_target_base)
    # Answers of different lengths, so the slices are padded differently from the whole batch.
    examples = [
        encode_sft(tokenizer, format_prompt(tokenizer, r["prompt"]), r["response"][: 20 + 7 * i], 96)
        for i, r in enumerate(fixture_records(7))
    ]
    pad = tokenizer.pad_token_id
    one_pass, whole = trained_lora(tiny_target_base, examples, pad, micro_batch_size=None, checkpointing=False)
    sliced, parts = trained_lora(tiny_target_base, examples, pad, micro_batch_size=2, checkpointing=True)
    # 7 examples in batches of 5: steps of 5 and 2 examples; the 5 run as slices of 2, 2, 1.
    assert whole.steps == parts.steps == 4 and whole.tokens == parts.tokens
    assert parts.losses == pytest.approx(whole.losses, abs=1e-5)
    assert one_pass.keys() == sliced.keys()
    for name, value in one_pass.items():
        assert torch.allclose(sliced[name], value, atol=1e-5, rtol=0), name
    assert any(not torch.equal(v, torch.zeros_like(v)) for n, v in sliced.items() if "lora_B" in n)


def test_micro_batches_cover_the_batch_in_order():
    assert micro_batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert micro_batches([1, 2], 4) == [[1, 2]]
    with pytest.raises(ValueError):
        micro_batches([1], 0)


def test_the_target_is_spread_over_gpus_only_when_there_are_several():
    assert device_map_for(torch.device("cpu"), 0) is None
    assert device_map_for(torch.device("cpu"), 4) is None
    assert device_map_for(torch.device("cuda"), 1) is None
    assert device_map_for(torch.device("cuda"), 4) == "auto"


def test_batch_size_stays_the_effective_batch_and_micro_batching_has_safe_defaults():
    cfg = parse_stage_config("train-target", {"batchSize": 16})
    assert cfg.batch_size == 16 and cfg.micro_batch_size == 4 and cfg.gradient_checkpointing is True
    cfg = parse_stage_config("train-target", {"microBatchSize": 1, "gradientCheckpointing": False})
    assert cfg.micro_batch_size == 1 and cfg.gradient_checkpointing is False
