"""train-reward: DP-SGD LoRA fine-tuning of the reward proxy R (docs/design.md#dp-train-reward-proxy).

One private record is one DP example carrying all its pairs: its distinct scored sequences
are rows of the same batch, their row gradients are summed into one per-record gradient
(dp.py), and that gradient is clipped once. A record's three pairs (a ≻ b, a ≻ g, g ≻ b)
involve only three distinct sequences, so each is scored once and the pairs index into the
scores: half the rows of scoring every pair's two sides, the same loss and gradient. The loss
of a record is −Σ_pairs log σ(r(chosen) − r(rejected)) (losses.pair_loss_per_record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import ProxyTrainConfig
from ..contract import Job
from ..dp import RecordBatch
from ..failure import JobInputError
from ..lora import attach_lora
from ..losses import pair_loss_per_record
from ..models import load_reward_model, lora_target_modules
from ..prompts import format_prompt
from ..records import display_name, read_jsonl
from ..sft import attention_mask, pad_right, truncate_pair
from .proxy_training import seeded_tokenizer, train_and_save

STAGE = "train-reward"
PAIR_FIELDS = ("prompt", "chosen", "rejected")


@dataclass(frozen=True)
class EncodedRecord:
    """One private record as its distinct token rows and its pairs: rows[c] ≻ rows[r] for (c, r) in pairs."""

    rows: list[list[int]]
    pairs: list[tuple[int, int]]

    @classmethod
    def from_pairs(cls, chosen: Sequence[list[int]], rejected: Sequence[list[int]]) -> EncodedRecord:
        """chosen[k] ≻ rejected[k]; a sequence that occurs in several pairs becomes one row."""
        rows: list[list[int]] = []
        index: dict[tuple[int, ...], int] = {}

        def row_of(ids: list[int]) -> int:
            key = tuple(ids)
            if key not in index:
                index[key] = len(rows)
                rows.append(list(ids))
            return index[key]

        pairs = [(row_of(c), row_of(r)) for c, r in zip(chosen, rejected, strict=True)]
        return cls(rows=rows, pairs=pairs)


def read_pair_records(path: Path) -> list[dict]:
    """`{id, pairs: [{prompt, chosen, rejected}, …]}` lines; errors name line and field only."""
    label = display_name(path)
    seen: set[str] = set()
    out = []
    for line_no, record in read_jsonl(path, {"id": str, "pairs": list}, name=label):
        if record["id"] in seen:
            raise JobInputError(label, line_no, "id", "repeats an earlier line's id")
        seen.add(record["id"])
        pairs = record["pairs"]
        if not pairs:
            raise JobInputError(label, line_no, "pairs", "must hold at least one pair")
        for i, pair in enumerate(pairs):
            if not isinstance(pair, dict):
                raise JobInputError(label, line_no, f"pairs[{i}]", "must be an object")
            for name in PAIR_FIELDS:
                if name not in pair:
                    raise JobInputError(label, line_no, f"pairs[{i}].{name}", "missing")
                if not isinstance(pair[name], str):
                    raise JobInputError(label, line_no, f"pairs[{i}].{name}", "must be a string")
        out.append({"id": record["id"], "pairs": [{k: p[k] for k in PAIR_FIELDS} for p in pairs]})
    if not out:
        raise JobInputError(label, None, None, "holds no records")
    return out


def encode_scored(tokenizer, prompt: str, response: str, max_length: int) -> list[int]:
    """The row the reward model scores: formatted prompt, then the response; no EOS.

    No EOS because the score is read at the last non-pad token, and this tokenizer's EOS
    may double as its pad token.
    """
    prompt_ids = tokenizer(format_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    prompt_ids, response_ids = truncate_pair(prompt_ids, response_ids, max_length)
    return prompt_ids + response_ids


def encode_record(tokenizer, record: dict, max_length: int) -> EncodedRecord:
    pairs = record["pairs"]
    return EncodedRecord.from_pairs(
        chosen=[encode_scored(tokenizer, p["prompt"], p["chosen"], max_length) for p in pairs],
        rejected=[encode_scored(tokenizer, p["prompt"], p["rejected"], max_length) for p in pairs],
    )


def pair_batch(records: Sequence[EncodedRecord], pad_id: int) -> RecordBatch:
    """Rows: each record's distinct sequences in turn; `pair_rows` holds each pair's (chosen, rejected) rows."""
    rows: list[list[int]] = []
    row_record: list[int] = []
    pair_rows: list[tuple[int, int]] = []
    for i, record in enumerate(records):
        first = len(rows)
        rows.extend(record.rows)
        row_record.extend([i] * len(record.rows))
        pair_rows.extend((first + c, first + r) for c, r in record.pairs)
    return RecordBatch(
        inputs={"input_ids": pad_right(rows, pad_id), "attention_mask": attention_mask(rows)},
        row_record=torch.tensor(row_record, dtype=torch.long),
        n_records=len(records),
        tokens=sum(len(r) for r in rows),
        pair_rows=torch.tensor(pair_rows, dtype=torch.long).reshape(-1, 2),
    )


def pair_record_losses(model: torch.nn.Module, batch: RecordBatch) -> torch.Tensor:
    if batch.pair_rows is None:
        raise ValueError("a reward batch needs pair_rows")
    scores = model(**batch.inputs).logits.squeeze(-1)
    chosen, rejected = batch.pair_rows[:, 0], batch.pair_rows[:, 1]
    return pair_loss_per_record(scores[chosen], scores[rejected], batch.row_record[chosen], batch.n_records)


def run(job: Job[ProxyTrainConfig]) -> dict:
    cfg = job.config
    records = read_pair_records(job.jsonl_path("pairs"))
    tokenizer = seeded_tokenizer(job)
    model = load_reward_model(job.model_path("base"), pad_token_id=tokenizer.pad_token_id)
    model = attach_lora(model, cfg.lora, lora_target_modules(model), reward=True)

    encoded = [encode_record(tokenizer, r, cfg.max_length) for r in records]
    return train_and_save(
        job, STAGE, model, tokenizer, encoded, make_batch=pair_batch, record_losses=pair_record_losses
    )
