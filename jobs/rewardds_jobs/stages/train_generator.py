"""train-generator: DP-SGD LoRA fine-tuning of the generation proxy G (docs/design.md#dp-train-generation-proxy).

config → private records → response-only LM loss per record → DP-SGD (dp.train_dp) →
adapter + tokenizer + metrics.json in the model folder.
"""

from __future__ import annotations

import torch

from ..checkpoints import spot_checkpoint_dir
from ..config import ProxyTrainConfig
from ..contract import Job
from ..dp import DPSettings, dp_metrics, train_dp
from ..lora import attach_lora
from ..models import load_causal_lm, load_tokenizer, lora_target_modules
from ..prompts import format_prompt
from ..records import read_records
from ..sft import encode_sft, lm_record_losses, sft_batch

STAGE = "train-generator"


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


def run(job: Job[ProxyTrainConfig]) -> dict:
    cfg = job.config
    torch.manual_seed(cfg.seed)
    records = read_records(job.jsonl_path("train"))
    base = job.model_path("base")
    tokenizer = load_tokenizer(base)
    model = load_causal_lm(base)
    model = attach_lora(model, cfg.lora, lora_target_modules(model))

    examples = [
        encode_sft(tokenizer, format_prompt(tokenizer, r["prompt"]), r["response"], cfg.max_length) for r in records
    ]
    settings = dp_settings(cfg)
    result = train_dp(
        model,
        examples,
        make_batch=lambda batch: sft_batch(batch, tokenizer.pad_token_id),
        record_losses=lm_record_losses,
        settings=settings,
        checkpoint_dir=spot_checkpoint_dir(),
    )

    out = job.model_out
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    metrics = dp_metrics(STAGE, settings, result)
    return metrics
