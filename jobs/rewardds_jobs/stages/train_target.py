"""train-target: plain LoRA SFT of the target LLM on the pool (docs/design.md#fine-tune-target).

No DP here: the pool is synthetic, made only from the DP models' outputs, so training on
it is post-processing. Round r > 0 continues the previous round's adapter (the `target`
channel), loaded trainable; its own LoRA shape then wins over `lora` in config.json.
"""

from __future__ import annotations

import torch

from ..checkpoints import spot_checkpoint_dir
from ..config import TargetTrainConfig
from ..contract import Job
from ..lora import attach_lora, resume_lora
from ..models import load_causal_lm, load_tokenizer, lora_target_modules
from ..prompts import format_prompt
from ..records import read_unique
from ..sft import encode_sft, train_sft

STAGE = "train-target"


def run(job: Job[TargetTrainConfig]) -> dict:
    cfg = job.config
    torch.manual_seed(cfg.seed)
    pool = read_unique(job.jsonl_path("pool"), {"prompt": str, "response": str})
    base = job.model_path("target_base")
    tokenizer = load_tokenizer(base)
    model = load_causal_lm(base, spread=True)
    if cfg.gradient_checkpointing:
        # Non-reentrant: with a frozen embedding the reentrant variant would see no input
        # needing a gradient and leave LoRA without one.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    resumed = job.has_channel("target")
    if resumed:
        model = resume_lora(model, str(job.model_path("target")))
    else:
        model = attach_lora(model, cfg.lora, lora_target_modules(model))

    examples = [
        encode_sft(tokenizer, format_prompt(tokenizer, r["prompt"]), r["response"], cfg.max_length) for r in pool
    ]
    result = train_sft(
        model,
        examples,
        pad_id=tokenizer.pad_token_id,
        batch_size=cfg.batch_size,
        micro_batch_size=min(cfg.micro_batch_size, cfg.batch_size),
        epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        seed=cfg.seed,
        checkpoint_dir=spot_checkpoint_dir(),
    )

    out = job.model_out
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    metrics = {
        "stage": STAGE,
        "records": len(examples),
        "epochs": cfg.epochs,
        "steps": result.steps,
        "resumed": resumed,
        "losses": result.losses,
        "lossFirst": result.losses[0] if result.losses else None,
        "lossLast": result.losses[-1] if result.losses else None,
        "tokensPerSecond": result.tokens / result.seconds if result.seconds > 0 else 0.0,
        "seconds": result.seconds,
    }
    return metrics
