"""pretrain-tiny-model: the loss drops, a second call is a cache hit, the folder loads like a base model."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import job_env, run_python

from rewardds_jobs.losses import IGNORE_INDEX
from rewardds_jobs.models import load_causal_lm, load_tokenizer
from rewardds_jobs.pretrain import (
    METADATA_FILE,
    PretrainSettings,
    cache_key,
    learning_rate_at,
    pack_documents,
    pretrain_tiny_model,
)
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.tiny import build_tokenizer

# Few steps on short blocks: enough for a byte-level model to learn a tiny corpus's letters.
FAST = PretrainSettings(steps=40, seed=0, batch_size=8, block=32, learning_rate=3e-3, warmup=4)
LINES = [f"The ship number {i} docks at berth K-{10 + i}." for i in range(12)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in LINES), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pretrained(corpus, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return cache, pretrain_tiny_model(corpus, cache, size="proxy", settings=FAST)


@pytest.mark.slow
def test_loss_drops_well_below_chance(pretrained):
    _, result = pretrained
    assert not result.cached and len(result.losses) == FAST.steps
    chance = torch.log(torch.tensor(259.0)).item()  # uniform over the byte vocabulary: ln 259 ≈ 5.56
    assert result.losses[0] > chance - 0.5
    last = sum(result.losses[-5:]) / 5
    assert last < result.losses[0] - 2.0, (result.losses[0], last)


def test_second_call_is_a_cache_hit_with_the_same_weights(corpus, pretrained):
    cache, first = pretrained
    weights = first.path / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.read_bytes())
    again = pretrain_tiny_model(corpus, cache, size="proxy", settings=FAST)
    assert again.cached and again.path == first.path and again.losses == first.losses
    assert (weights.stat().st_mtime_ns, weights.read_bytes()) == before
    assert sorted(p.name for p in cache.iterdir()) == [first.path.name]  # no stray temporary folder


def test_key_changes_with_every_input(corpus):
    data = corpus.read_bytes()
    key = cache_key(data, "proxy", FAST)
    others = {
        cache_key(data + b'{"text": "one more line"}\n', "proxy", FAST),
        cache_key(data, "target", FAST),
        cache_key(data, "proxy", PretrainSettings(**{**FAST.__dict__, "steps": 41})),
        cache_key(data, "proxy", PretrainSettings(**{**FAST.__dict__, "seed": 1})),
        cache_key(data, "proxy", PretrainSettings(**{**FAST.__dict__, "learning_rate": 1e-3})),
        cache_key(data, "proxy", PretrainSettings(**{**FAST.__dict__, "vocab": 300})),
    }
    assert key not in others and len(others) == 6
    with pytest.raises(ValueError, match="size must be one of"):
        cache_key(data, "huge", FAST)


def test_folder_loads_like_a_base_model_and_speaks_the_corpus(pretrained):
    from transformers import AutoModelForCausalLM

    _, result = pretrained
    folder = result.path
    model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True)
    assert model.config.model_type == "qwen2" and model.config.num_hidden_layers == 4
    assert model.config.hidden_size == 128
    tokenizer = load_tokenizer(folder)
    assert tokenizer(LINES[0], add_special_tokens=False)["input_ids"] == list(LINES[0].encode())
    assert format_prompt(tokenizer, "Q") == "<|user|>\nQ\n<|assistant|>\n"
    # The stages' own loader, then the corpus's most common continuation.
    lm = load_causal_lm(folder, device=torch.device("cpu"))
    ids = tokenizer("The ship", return_tensors="pt", add_special_tokens=False)["input_ids"]
    out = lm.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert tokenizer.decode(out[0, ids.shape[1] :]).startswith(" number")
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["size"] == "proxy" and meta["key"] == result.key and meta["settings"]["steps"] == FAST.steps


def test_documents_are_never_cut_at_a_row_end():
    # A chat line cut at a block's end shows its answer without the question it answers.
    tokenizer = build_tokenizer()
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    rows, labels = pack_documents(["ab", "c", "defg", "hijklmno"], tokenizer, block=6)
    # No BOS: a prompt reaches every stage without special tokens, so a row starts like one.
    shared = [*b"ab", eos, *b"c", eos]  # two short documents share a row
    whole = [*b"defg", eos]  # would not fit after them: a row of its own, not cut
    long_doc = [*b"hijklmno", eos]  # 9 tokens, longer than a row: the only one cut
    assert rows == [[*shared, pad], [*whole, pad], long_doc[:6], [*long_doc[6:], pad, pad, pad]]
    # Padding carries no loss; every real token does.
    ignored = IGNORE_INDEX
    assert labels == [[*shared, ignored], [*whole, ignored], long_doc[:6], [*long_doc[6:], ignored, ignored, ignored]]
    assert PretrainSettings().block >= 256  # the harbor world's chat lines reach 202 tokens


def test_learnt_vocabulary_comes_from_the_corpus_alone_and_shortens_its_texts():
    corpus = LINES * 3
    learnt = build_tokenizer(corpus, 300)
    assert learnt.get_vocab() == build_tokenizer(corpus, 300).get_vocab()  # deterministic: one cache key, one model
    assert len(learnt) <= 300
    # Every byte is still a token, so a text the corpus never showed is encoded, and decoded back whole.
    unseen = "Zürich? 42 % — ünïcode"
    assert learnt.decode(learnt(unseen, add_special_tokens=False)["input_ids"]) == unseen
    ids = learnt(LINES[0], add_special_tokens=False)["input_ids"]
    assert len(ids) < len(LINES[0].encode()) / 2  # the corpus's words are merged
    assert learnt.decode(ids) == LINES[0]
    # Role markers are one token each and survive decoding, so a user turn can be cut at the next one.
    prompt = format_prompt(learnt, "Q")
    assert prompt == "<|user|>\nQ\n<|assistant|>\n"
    prompt_ids = learnt(prompt, add_special_tokens=False)["input_ids"]
    tokens = learnt.convert_ids_to_tokens(prompt_ids)
    assert tokens[0] == "<|user|>" and "<|assistant|>" in tokens
    assert "<|assistant|>" in learnt.decode(prompt_ids, skip_special_tokens=True)
    # A merge learnt from this corpus is absent from one learnt from another text.
    other = build_tokenizer(["Completely different words appear here, again and again."] * 5, 300)
    assert " ship" in {learnt.convert_tokens_to_string([t]) for t in learnt.get_vocab()}
    assert " ship" not in {other.convert_tokens_to_string([t]) for t in other.get_vocab()}
    with pytest.raises(ValueError, match="vocab must be 0"):
        PretrainSettings(vocab=100)
    # A vocabulary size with nothing to learn it from is refused, not quietly the byte-level tokenizer.
    with pytest.raises(ValueError, match="needs a public corpus"):
        build_tokenizer(None, 300)


def test_schedule_warms_up_then_decays_to_a_tenth():
    s = PretrainSettings(steps=100, warmup=10, learning_rate=1e-3)
    assert learning_rate_at(0, s) == pytest.approx(1e-4)
    assert learning_rate_at(9, s) == pytest.approx(1e-3)
    assert learning_rate_at(10, s) == pytest.approx(1e-3)
    assert learning_rate_at(100, s) == pytest.approx(1e-4)


@pytest.mark.slow
def test_cli_trains_then_hits_the_cache(corpus, tmp_path):
    argv = ["-m", "rewardds_jobs", "pretrain-tiny-model", "--corpus", str(corpus)]
    argv += ["--cache", str(tmp_path / "cache"), "--size", "target", "--steps", "3", "--batch-size", "2"]
    argv += ["--block", "16", "--vocab", "300", "--out", str(tmp_path / "copy")]
    first = run_python(argv, job_env({}))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "target model (trained in" in first.stdout
    second = run_python(argv, job_env({}))
    assert "target model (cache hit;" in second.stdout
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert config["model_type"] == "llama" and config["hidden_size"] == 192
    # --vocab: merges learnt from the corpus, and the embedding sized to them.
    merged = load_tokenizer(tmp_path / "copy")
    assert 262 < len(merged) <= 300 and config["vocab_size"] == len(merged)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"txt": "secret record"}\n', encoding="utf-8")
    argv[argv.index(str(corpus))] = str(bad)
    third = run_python(argv, job_env({}))
    assert third.returncode != 0 and "corpus line 2" in third.stderr and "secret" not in third.stderr
