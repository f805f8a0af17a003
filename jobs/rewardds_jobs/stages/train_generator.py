"""train-generator: DP-SGD LoRA fine-tuning of the generation proxy G (docs/design.md#dp-train-generation-proxy).

config → private records → LM loss per record (response only, or prompt and response) → DP-SGD (dp.train_dp) →
adapter + tokenizer + metrics.json in the model folder.
"""

from __future__ import annotations

from ..config import GeneratorTrainConfig
from ..contract import Job
from ..lora import attach_lora
from ..models import load_causal_lm, lora_target_modules
from ..prompts import format_prompt
from ..records import read_records
from ..sft import EncodedExample, encode_sft, lm_record_losses, sft_batch
from .proxy_training import seeded_tokenizer, train_and_save

STAGE = "train-generator"


def run(job: Job[GeneratorTrainConfig]) -> dict:
    cfg = job.config
    records = read_records(job.jsonl_path("train"))
    tokenizer = seeded_tokenizer(job)
    model = load_causal_lm(job.model_path("base"))
    model = attach_lora(model, cfg.lora, lora_target_modules(model))

    examples = encode_examples(tokenizer, records, cfg)
    return train_and_save(job, STAGE, model, tokenizer, examples, make_batch=sft_batch, record_losses=lm_record_losses)


def encode_examples(tokenizer, records: list[dict], cfg: GeneratorTrainConfig) -> list[EncodedExample]:
    """One row a record. With the prompts in the loss, pre-query synthesis samples questions like the
    private ones (docs/design.md#synthesize-queries); a record is still one clipped gradient."""
    learn_prompt = cfg.loss_on == "prompt-and-response"
    return [
        encode_sft(
            tokenizer, format_prompt(tokenizer, r["prompt"]), r["response"], cfg.max_length, learn_prompt=learn_prompt
        )
        for r in records
    ]
