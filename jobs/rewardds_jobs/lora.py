"""The LoRA set-up of every trained model: one adapter shape for G, R and the target.

LoRA goes on the attention and MLP projections (docs/design.md#dp-train-generation-proxy). The reward proxy
is a sequence-classification model whose fresh score head must train too, so the head is
listed in `modules_to_save`: PEFT then trains and saves a copy of it beside the adapter.
The base weights stay frozen in every case.
"""

from __future__ import annotations

from collections.abc import Sequence

import peft
import torch

from .config import LoraConfig

# The name transformers gives the scalar head of *ForSequenceClassification models.
SCORE_HEAD = "score"


def peft_config(lora: LoraConfig, target_modules: Sequence[str], *, reward: bool = False) -> peft.LoraConfig:
    if not target_modules:
        raise ValueError("no LoRA target modules: the base model has no known projection layers")
    return peft.LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(target_modules),
        bias="none",
        task_type=peft.TaskType.SEQ_CLS if reward else peft.TaskType.CAUSAL_LM,
        modules_to_save=[SCORE_HEAD] if reward else None,
    )


def attach_lora(
    model: torch.nn.Module, lora: LoraConfig, target_modules: Sequence[str], *, reward: bool = False
) -> peft.PeftModel:
    """Wraps `model` with a fresh adapter; only LoRA (and, for R, the head) is trainable."""
    return peft.get_peft_model(model, peft_config(lora, target_modules, reward=reward))


def resume_lora(model: torch.nn.Module, adapter_dir: str) -> peft.PeftModel:
    """Loads a saved adapter *trainable*, to continue fine-tuning it (train-target, round r > 0)."""
    return peft.PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
