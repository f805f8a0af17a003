"""What both DP proxies (G and R) do once their examples are encoded: DP-SGD, then save and report.

train-generator and train-reward differ only in the model head, the examples and the loss;
the DP settings, the training call, the saved artifacts and the metrics are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from ..checkpoints import spot_checkpoint_dir
from ..config import ProxyTrainConfig
from ..contract import Job
from ..dp import DPSettings, RecordBatch, RecordLosses, dp_metrics, train_dp
from ..models import load_tokenizer

E = TypeVar("E")


def dp_settings(cfg: ProxyTrainConfig) -> DPSettings:
    return DPSettings(
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        noise_multiplier=cfg.noise_multiplier,
        clip_norm=cfg.clip_norm,
        delta=cfg.delta,
        # mechanism_seed stays None: the DP noise and sampling come from OS entropy.
    )


def seeded_tokenizer(job: Job[ProxyTrainConfig]) -> Any:
    """Seeds torch from the config before any weight is made, so the LoRA adapter (and R's fresh
    score head) start identically on a rerun; returns the base model's tokenizer."""
    torch.manual_seed(job.config.seed)
    return load_tokenizer(job.model_path("base"))


def train_and_save(
    job: Job[ProxyTrainConfig],
    stage: str,
    model: torch.nn.Module,
    tokenizer: Any,
    examples: Sequence[E],
    make_batch: Callable[[list[E], int], RecordBatch],
    record_losses: RecordLosses,
) -> dict:
    """DP-SGD on `examples`, batched by `make_batch(examples, pad id)`, then the adapter and tokenizer into the
    model folder; returns the metrics."""
    settings = dp_settings(job.config)
    result = train_dp(
        model,
        examples,
        make_batch=lambda batch: make_batch(batch, tokenizer.pad_token_id),
        record_losses=record_losses,
        settings=settings,
        checkpoint_dir=spot_checkpoint_dir(),
    )
    out = job.model_out
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return dp_metrics(stage, settings, result)
