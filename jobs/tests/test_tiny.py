"""Tiny models: offline, deterministic, byte-level tokenizer, the real module names, loadable heads."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from conftest import make_tiny

from rewardds_jobs.models import load_causal_lm, load_reward_model, load_tokenizer, lora_target_modules
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.tiny import byte_symbols


def digest(path):
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.slow
def test_same_seed_same_weights_other_seed_other_weights(tiny_base, tmp_path):
    again = make_tiny(tmp_path / "again", "--seed", "0")
    other = make_tiny(tmp_path / "other", "--seed", "5")
    assert digest(again) == digest(tiny_base)
    assert digest(other) != digest(tiny_base)
    assert (again / "tokenizer.json").read_bytes() == (tiny_base / "tokenizer.json").read_bytes()


def test_tokenizer_is_bytes_plus_specials_with_no_merges(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    spec = json.loads((tiny_base / "tokenizer.json").read_text())
    assert spec["model"]["merges"] == []
    assert len(byte_symbols()) == len(set(byte_symbols())) == 256
    text = "Fièvre 39°C — 发烧? \t\n"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert ids == list(text.encode("utf-8"))  # one token per byte, id = byte value
    assert tokenizer.decode(ids) == text
    assert {tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id} <= set(range(256, len(tokenizer)))


@pytest.mark.parametrize("which", ["tiny_base", "tiny_target_base"])
def test_every_token_id_fits_the_embedding(which, request):
    """AutoTokenizer may pick an architecture's own class (Qwen2Tokenizer); it must not grow the vocabulary."""
    folder = request.getfixturevalue(which)
    tokenizer = load_tokenizer(folder)
    vocab_size = json.loads((folder / "config.json").read_text())["vocab_size"]
    assert len(tokenizer) == vocab_size == 259
    text = "a<|endoftext|>b<unk>"
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == list(text.encode())


def test_chat_template_is_the_prompt_format(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    assert format_prompt(tokenizer, "Is it serious?") == "<|user|>\nIs it serious?\n<|assistant|>\n"
    assert format_prompt(tokenizer, "") == "<|user|>\n\n<|assistant|>\n"


def test_model_has_qwen2_module_names_and_llama_variant(tiny_base, tiny_target_base):
    names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert lora_target_modules(load_causal_lm(tiny_base, device=torch.device("cpu"))) == names
    config = json.loads((tiny_target_base / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert lora_target_modules(load_causal_lm(tiny_target_base, device=torch.device("cpu"))) == names


@pytest.mark.slow
def test_reward_kind_has_a_saved_one_label_head(tmp_path):
    folder = make_tiny(tmp_path / "reward", "--kind", "reward", "--layers", "1")
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["Qwen2ForSequenceClassification"] and len(config["id2label"]) == 1
    first = load_reward_model(folder, device=torch.device("cpu"))
    second = load_reward_model(folder, device=torch.device("cpu"))
    assert torch.equal(first.score.weight, second.score.weight)  # saved, not re-drawn


def test_reward_adapter_restores_its_trained_head(tiny_base, reward_adapter):
    """From a plain causal-LM folder the head is new; the adapter's modules_to_save copy must replace it."""
    from safetensors.torch import load_file

    saved = load_file(str(reward_adapter / "adapter_model.safetensors"))
    head = [v for k, v in saved.items() if "score" in k]
    assert len(head) == 1
    model = load_reward_model(tiny_base, reward_adapter, device=torch.device("cpu"))
    live = [p for n, p in model.named_parameters() if "score" in n and "modules_to_save" in n]
    assert len(live) == 1 and torch.equal(live[0], head[0])
