"""Score candidates (synthesis zone, docs/design.md#score-candidates).

For each candidate c of query q: reward r = R(q, c), the reward proxy's scalar score of
the whole sequence, and perplexity p = exp(mean NLL of the response tokens) under G
given format_prompt(q). Each reuses its training's own encoding — the reward row of
train-reward, the SFT row of train-generator (response plus EOS) — so a model is scored
on exactly the kind of sequence it was trained on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import torch

from ..config import ScoreConfig
from ..contract import Job
from ..failure import JobInputError
from ..models import load_causal_lm, load_reward_model, load_tokenizer
from ..prompts import format_prompt
from ..records import display_name, read_unique, write_jsonl
from ..sft import IGNORE_INDEX, encode_sft
from .train_reward import encode_scored

log = logging.getLogger(__name__)

# exp(50) ≈ 5e21: a finite ceiling so a hopeless candidate still serialises as a number.
MAX_MEAN_NLL = 50.0


def _pad_right(rows: Sequence[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


@torch.no_grad()
def rewards(model, tokenizer, pairs: Sequence[tuple[str, str]], *, max_length: int, batch_size: int) -> list[float]:
    """R(q, c) for each (query, candidate), batched with right padding."""
    device = next(model.parameters()).device
    out: list[float] = []
    for start in range(0, len(pairs), batch_size):
        rows = [encode_scored(tokenizer, q, c, max_length) for q, c in pairs[start : start + batch_size]]
        ids, mask = _pad_right(rows, tokenizer.pad_token_id, device)
        logits = model(input_ids=ids, attention_mask=mask).logits
        out.extend(float(v) for v in logits[:, 0].float().cpu())
    return out


def reward_proxy_scores(
    base, reward_dir, pairs: Sequence[tuple[str, str]], *, max_length: int, batch_size: int
) -> list[float]:
    """R(q, c) by the reward adapter at `reward_dir` on `base`, loaded as this stage loads it.

    Also what `bench/reward_accuracy.py` ranks held-out pairs with, so the benchmark measures
    the very scores the filter sees.
    """
    tokenizer = load_tokenizer(reward_dir, fallback=base)
    model = load_reward_model(base, reward_dir, pad_token_id=tokenizer.pad_token_id)
    try:
        return rewards(model, tokenizer, pairs, max_length=max_length, batch_size=batch_size)
    finally:
        del model


def ppl_row(tokenizer, query: str, candidate: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of the SFT row and how many lead tokens are prompt (not scored)."""
    example = encode_sft(tokenizer, format_prompt(tokenizer, query), candidate, max_length)
    n_prompt = sum(1 for label in example.labels if label == IGNORE_INDEX)
    return list(example.input_ids), n_prompt


@torch.no_grad()
def response_nlls(
    model, tokenizer, pairs: Sequence[tuple[str, str]], *, max_length: int, batch_size: int
) -> list[tuple[float, int]]:
    """(summed NLL, token count) of each candidate's response tokens (with its end-of-sequence) given the query."""
    device = next(model.parameters()).device
    out: list[tuple[float, int]] = []
    for start in range(0, len(pairs), batch_size):
        encoded = [ppl_row(tokenizer, q, c, max_length) for q, c in pairs[start : start + batch_size]]
        ids, mask = _pad_right([e[0] for e in encoded], tokenizer.pad_token_id, device)
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
        # Token t is predicted by position t-1.
        logprobs = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        positions = torch.arange(1, ids.shape[1], device=device).unsqueeze(0)
        for i, (row, n_prompt) in enumerate(encoded):
            in_response = (positions[0] >= n_prompt) & (positions[0] < len(row))
            out.append((-logprobs[i][in_response].sum().item(), int(in_response.sum().item())))
    return out


def perplexities(
    model, tokenizer, pairs: Sequence[tuple[str, str]], *, max_length: int, batch_size: int
) -> list[float]:
    """exp(mean NLL) of each candidate's response tokens (with its end-of-sequence) given the query."""
    nlls = response_nlls(model, tokenizer, pairs, max_length=max_length, batch_size=batch_size)
    return [math.exp(min(total / count, MAX_MEAN_NLL)) for total, count in nlls]


def read_candidates(path) -> list[dict]:
    label = display_name(path)
    records = read_unique(path, {"prompt": str, "candidates": list}, name=label)
    for line_no, record in enumerate(records, start=1):
        if not record["candidates"]:
            raise JobInputError(label, line_no, "candidates", "must not be empty")
        for i, text in enumerate(record["candidates"]):
            if not isinstance(text, str):
                raise JobInputError(label, line_no, f"candidates[{i}]", "must be a string")
    return records


def run(job: Job[ScoreConfig]) -> dict:
    cfg = job.config
    path = job.jsonl_path("candidates")
    records = read_candidates(path)
    base = job.model_path("base")
    flat = [(r["prompt"], c) for r in records for c in r["candidates"]]

    generator_dir = job.model_path("generator")
    tokenizer = load_tokenizer(generator_dir, fallback=base)
    model = load_causal_lm(base, generator_dir)
    ppl = perplexities(model, tokenizer, flat, max_length=cfg.max_length, batch_size=cfg.batch_size)
    del model

    reward = reward_proxy_scores(
        base, job.model_path("reward"), flat, max_length=cfg.max_length, batch_size=cfg.batch_size
    )

    out, k = [], 0
    for r in records:
        scored = []
        for text in r["candidates"]:
            scored.append({"text": text, "reward": reward[k], "ppl": ppl[k]})
            k += 1
        out.append({"id": r["id"], "prompt": r["prompt"], "candidates": scored})
    written = write_jsonl(job.output("scores") / "scores.jsonl", out)
    log.info("scored %d candidates of %d queries", len(flat), written)
    return {
        "queries": written,
        "candidates": len(flat),
        "reward": _summary(reward),
        "ppl": _summary(ppl),
    }


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    n = len(ordered)
    return {"min": ordered[0], "median": ordered[n // 2], "max": ordered[-1], "mean": sum(ordered) / n}
