"""Spot checkpoints of the target's LoRA SFT: an interrupted training resumes where it was kept
and ends exactly where an uninterrupted one ends. (The DP trainings' resume is in test_dp.py.)"""

import pytest
import torch
from conftest import fixture_records

import rewardds_jobs.sft as sft
from rewardds_jobs.checkpoints import load_state, save_state, spot_checkpoint_dir
from rewardds_jobs.config import LoraConfig
from rewardds_jobs.lora import attach_lora
from rewardds_jobs.models import load_causal_lm, load_tokenizer, lora_target_modules
from rewardds_jobs.prompts import format_prompt


class Interrupted(Exception):
    pass


def fresh_model(base):
    torch.manual_seed(0)
    model = load_causal_lm(base, device=torch.device("cpu"))
    return attach_lora(model, LoraConfig(r=2, alpha=4, dropout=0.0), lora_target_modules(model))


def examples(base):
    tokenizer = load_tokenizer(base)
    return tokenizer, [
        sft.encode_sft(tokenizer, format_prompt(tokenizer, r["prompt"]), r["response"], 64) for r in fixture_records(10)
    ]


def trainable(model):
    return [p.detach().clone() for p in model.parameters() if p.requires_grad]


@pytest.mark.slow
def test_an_interrupted_sft_resumes_and_ends_where_an_uninterrupted_one_ends(tiny_base, tmp_path, monkeypatch):
    tokenizer, data = examples(tiny_base)
    args = dict(pad_id=tokenizer.pad_token_id, batch_size=3, epochs=3, learning_rate=1e-2, seed=5)  # 12 steps

    straight = fresh_model(tiny_base)
    expected = sft.train_sft(straight, data, **args)

    real_losses = sft.lm_record_losses
    calls = {"n": 0}

    def failing_after_seven(model, batch):
        calls["n"] += 1
        if calls["n"] > 7:
            raise Interrupted()
        return real_losses(model, batch)

    monkeypatch.setattr(sft, "lm_record_losses", failing_after_seven)
    with pytest.raises(Interrupted):
        sft.train_sft(fresh_model(tiny_base), data, **args, checkpoint_dir=tmp_path, checkpoint_every=5)
    monkeypatch.setattr(sft, "lm_record_losses", real_losses)

    resumed = fresh_model(tiny_base)
    result = sft.train_sft(resumed, data, **args, checkpoint_dir=tmp_path, checkpoint_every=5)
    assert result.steps == expected.steps == 12
    assert result.losses == pytest.approx(expected.losses, rel=1e-5)
    for got, want in zip(trainable(resumed), trainable(straight), strict=True):
        assert torch.allclose(got, want, atol=1e-6)


def test_a_state_of_another_training_is_refused_and_none_is_none(tmp_path):
    save_state(tmp_path, "x.pt", {"steps": 10}, {"a": 1})
    assert load_state(tmp_path, "x.pt", {"steps": 10})["a"] == 1
    assert load_state(tmp_path, "y.pt", {"steps": 10}) is None
    with pytest.raises(ValueError, match="belongs to another training"):
        load_state(tmp_path, "x.pt", {"steps": 11})


def test_the_checkpoint_folder_is_used_only_when_sagemaker_made_one(tmp_path):
    assert spot_checkpoint_dir({"SM_CHECKPOINT_DIR": str(tmp_path)}) == tmp_path
    assert spot_checkpoint_dir({"SM_CHECKPOINT_DIR": str(tmp_path / "absent")}) is None
