"""Supervised fine-tuning pieces shared by train-generator (DP) and train-target (plain).

An example becomes one row: the formatted prompt's tokens, then the response's tokens
right after them, then EOS; labels are IGNORE_INDEX on the prompt and on padding, so the
loss is on response tokens only (docs/design.md#dp-train-generation-proxy, docs/design.md#fine-tune-target),
unless the generator is asked to learn the prompts too (`generator.lossOn`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .checkpoints import load_state, restore_parameters, save_state
from .dp import RecordBatch
from .losses import IGNORE_INDEX, response_lm_loss_per_row


@dataclass(frozen=True)
class EncodedExample:
    input_ids: list[int]
    labels: list[int]


def truncate_pair(prompt_ids: list[int], response_ids: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """Fits prompt + response into max_length tokens.

    The prompt loses tokens from its *start* (its end holds the chat template's assistant
    header, which the response must follow) and keeps at least half the budget when the
    response is long; the response loses tokens from its end.
    """
    if len(prompt_ids) + len(response_ids) <= max_length:
        return prompt_ids, response_ids
    prompt_keep = min(len(prompt_ids), max(max_length - len(response_ids), max_length // 2))
    response_keep = max_length - prompt_keep
    return prompt_ids[len(prompt_ids) - prompt_keep :], response_ids[:response_keep]


def encode_sft(
    tokenizer, prompt_text: str, response: str, max_length: int, *, learn_prompt: bool = False
) -> EncodedExample:
    """One training row; `prompt_text` is already formatted (prompts.format_prompt).

    `learn_prompt` puts the prompt's tokens (template markers and question) in the loss too, so the
    model learns what is asked as well as what is answered.
    """
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        response_ids = [*response_ids, tokenizer.eos_token_id]
    prompt_ids, response_ids = truncate_pair(prompt_ids, response_ids, max_length)
    return EncodedExample(
        input_ids=prompt_ids + response_ids,
        labels=(prompt_ids if learn_prompt else [IGNORE_INDEX] * len(prompt_ids)) + response_ids,
    )


def pad_right(rows: Sequence[list[int]], pad_id: int, fill: int | None = None) -> torch.Tensor:
    width = max(len(r) for r in rows)
    value = pad_id if fill is None else fill
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def attention_mask(rows: Sequence[list[int]]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], dtype=torch.long)


def sft_batch(examples: Sequence[EncodedExample], pad_id: int) -> RecordBatch:
    """One row per example, so for train-generator one row per private record."""
    ids = [e.input_ids for e in examples]
    return RecordBatch(
        inputs={"input_ids": pad_right(ids, pad_id), "attention_mask": attention_mask(ids)},
        labels=pad_right([e.labels for e in examples], pad_id, fill=IGNORE_INDEX),
        row_record=torch.arange(len(examples)),
        n_records=len(examples),
        tokens=sum(len(r) for r in ids),
    )


def lm_record_losses(model: torch.nn.Module, batch: RecordBatch) -> torch.Tensor:
    """Per-record response-only LM loss; rows are records here."""
    logits = model(**batch.inputs).logits
    # A model spread over several GPUs returns its logits on the last one.
    per_row = response_lm_loss_per_row(logits, batch.labels.to(logits.device))
    out = torch.zeros(batch.n_records, dtype=per_row.dtype, device=per_row.device)
    return out.index_add(0, batch.row_record.to(per_row.device), per_row)


def micro_batches(batch: Sequence[EncodedExample], size: int) -> list[Sequence[EncodedExample]]:
    """Consecutive slices of at most `size` examples that together make up `batch`."""
    if size < 1:
        raise ValueError("micro-batch size must be positive")
    return [batch[i : i + size] for i in range(0, len(batch), size)]


def input_device(model: torch.nn.Module) -> torch.device:
    """Where the token ids go: the input embedding's device (the first GPU of a spread model)."""
    return model.get_input_embeddings().weight.device


@dataclass
class SFTResult:
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0


SFT_CHECKPOINT_FILE = "sft-state.pt"


def train_sft(
    model: torch.nn.Module,
    examples: Sequence[EncodedExample],
    *,
    pad_id: int,
    batch_size: int,
    epochs: int,
    learning_rate: float,
    seed: int,
    micro_batch_size: int | None = None,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 50,
) -> SFTResult:
    """Plain (non-DP) LoRA SFT: seeded shuffles, mean of per-example losses, AdamW.

    `batch_size` examples make one optimizer step; they run through the model
    `micro_batch_size` at a time (default: all at once), each slice's backward adding its
    share of the batch mean to the gradients, so the step is the one-pass step with the
    activations of only one slice in memory.

    With `checkpoint_dir` (a managed-spot job) the state is kept every `checkpoint_every`
    steps and a restarted job continues where the last one was kept.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters (LoRA not attached?)")
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    order = list(range(len(examples)))
    shuffler = random.Random(seed)
    result = SFTResult()
    fingerprint = {"examples": len(examples), "batchSize": batch_size, "epochs": epochs, "seed": seed}
    first_epoch, first_start = 0, 0
    saved = load_state(checkpoint_dir, SFT_CHECKPOINT_FILE, fingerprint) if checkpoint_dir else None
    if saved is not None:
        restore_parameters(params, saved["trainable"])
        optimizer.load_state_dict(saved["optimizer"])
        shuffler.setstate(saved["shuffler"])
        order = list(saved["order"])
        first_epoch, first_start = saved["epoch"], saved["start"]
        result.steps, result.losses, result.tokens = saved["steps"], list(saved["losses"]), saved["tokens"]
    device = input_device(model)
    micro = micro_batch_size or batch_size
    model.train()
    started = time.perf_counter()
    for epoch in range(first_epoch, epochs):
        if epoch != first_epoch or saved is None:
            shuffler.shuffle(order)
        for start in range(first_start if epoch == first_epoch else 0, len(order), batch_size):
            chosen = [examples[i] for i in order[start : start + batch_size]]
            optimizer.zero_grad(set_to_none=True)
            loss = 0.0
            for part in micro_batches(chosen, micro):
                batch = sft_batch(part, pad_id).to(device)
                # Summed over the slice, divided by the whole batch: the slices add up to the batch mean.
                share = lm_record_losses(model, batch).sum() / len(chosen)
                share.backward()
                loss += float(share.detach())
                result.tokens += batch.tokens
            optimizer.step()
            result.steps += 1
            result.losses.append(loss)
            if checkpoint_dir is not None and result.steps % checkpoint_every == 0:
                save_state(
                    checkpoint_dir,
                    SFT_CHECKPOINT_FILE,
                    fingerprint,
                    {
                        "trainable": [p.detach().cpu().clone() for p in params],
                        "optimizer": optimizer.state_dict(),
                        "shuffler": shuffler.getstate(),
                        "order": list(order),
                        # Where the next batch starts: this epoch's next slice.
                        "epoch": epoch,
                        "start": start + batch_size,
                        "steps": result.steps,
                        "losses": list(result.losses),
                        "tokens": result.tokens,
                    },
                )
    result.seconds = time.perf_counter() - started
    return result
