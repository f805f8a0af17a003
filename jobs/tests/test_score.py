"""score: reward of R and perplexity of G per candidate, checked against a direct computation."""

from __future__ import annotations

import math

import torch
from conftest import run_job, sagemaker_layout

from rewardds_jobs.models import load_causal_lm, load_reward_model, load_tokenizer
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.stages.score import perplexities, rewards

CANDIDATES = [
    {"id": "q-000000", "prompt": "Is 38C a fever?", "candidates": ["Yes, mildly.", "", "No."]},
    {"id": "q-000001", "prompt": "What is a bond?", "candidates": ["A loan to an issuer.", "Stock."]},
]
CPU = torch.device("cpu")


def test_perplexity_is_exp_mean_nll_of_response_tokens_only(tiny_base, generator_adapter):
    model = load_causal_lm(tiny_base, generator_adapter, device=CPU)
    tokenizer = load_tokenizer(generator_adapter)
    pairs = [("Is 38C a fever?", "Yes, mildly."), ("A much longer question about bonds and rates?", "")]
    batched = perplexities(model, tokenizer, pairs, max_length=256, batch_size=2)
    for (q, c), got in zip(pairs, batched, strict=True):
        prompt_ids = tokenizer(format_prompt(tokenizer, q), add_special_tokens=False)["input_ids"]
        ids = prompt_ids + tokenizer(c, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        n_prompt = len(prompt_ids)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0]
        nll = torch.nn.functional.cross_entropy(logits[n_prompt - 1 : -1], torch.tensor(ids[n_prompt:]))
        assert math.isclose(got, math.exp(nll.item()), rel_tol=1e-4)
    # Padding in a batch does not change a row's value.
    assert math.isclose(
        perplexities(model, tokenizer, pairs[:1], max_length=256, batch_size=1)[0], batched[0], rel_tol=1e-4
    )


def test_rewards_do_not_depend_on_batching(tiny_base, reward_adapter):
    tokenizer = load_tokenizer(reward_adapter)
    model = load_reward_model(tiny_base, reward_adapter, device=CPU)
    pairs = [("q one?", "short"), ("a longer question two?", "a much longer candidate answer here")]
    together = rewards(model, tokenizer, pairs, max_length=128, batch_size=2)
    alone = [rewards(model, tokenizer, [p], max_length=128, batch_size=1)[0] for p in pairs]
    assert all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-5) for a, b in zip(together, alone, strict=True))
    assert together[0] != together[1]


def test_score_job(tmp_path, tiny_base, generator_adapter, reward_adapter):
    inputs = {"base": tiny_base, "generator": generator_adapter, "reward": reward_adapter, "candidates": CANDIDATES}
    layout = sagemaker_layout(tmp_path, "score", inputs, {"batchSize": 2, "maxLength": 128})
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = layout.read_jsonl("scores")
    assert [(s["id"], s["prompt"]) for s in lines] == [(c["id"], c["prompt"]) for c in CANDIDATES]
    for scored, given in zip(lines, CANDIDATES, strict=True):
        assert [c["text"] for c in scored["candidates"]] == given["candidates"]
        for c in scored["candidates"]:
            assert set(c) == {"text", "reward", "ppl"}
            assert math.isfinite(c["reward"]) and math.isfinite(c["ppl"]) and c["ppl"] >= 1.0
    # The job's numbers are those of the models loaded directly.
    tokenizer = load_tokenizer(reward_adapter)
    direct = rewards(
        load_reward_model(tiny_base, reward_adapter, device=CPU),
        tokenizer,
        [(CANDIDATES[0]["prompt"], CANDIDATES[0]["candidates"][0])],
        max_length=128,
        batch_size=1,
    )
    assert math.isclose(lines[0]["candidates"][0]["reward"], direct[0], rel_tol=1e-4, abs_tol=1e-5)
    metrics = layout.metrics("scores")
    assert metrics["queries"] == 2 and metrics["candidates"] == 5
    assert metrics["reward"]["min"] <= metrics["reward"]["median"] <= metrics["reward"]["max"]
