"""Loading the base models and adapters every stage uses, from local folders only."""

from __future__ import annotations

import os
from pathlib import Path

import torch

# Attention and MLP projections across the common decoder families (Qwen2/Llama/Mistral,
# GPT-2, GPT-NeoX/Falcon, Phi, Baichuan); LoRA goes on whichever the model has.
PROJECTION_NAMES = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
    "c_attn",
    "c_proj",
    "c_fc",
    "query_key_value",
    "dense",
    "dense_h_to_4h",
    "dense_4h_to_h",
    "W_pack",
    "fc1",
    "fc2",
    "out_proj",
    "qkv_proj",
    "gate_up_proj",
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def pick_device() -> torch.device:
    """REWARDDS_DEVICE wins (tests pin cpu); else CUDA when present, else CPU."""
    forced = os.environ.get("REWARDDS_DEVICE")
    if forced:
        return torch.device(forced)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_map_for(device: torch.device, cuda_devices: int) -> str | None:
    """`auto` (layers placed over every GPU by accelerate) when there are several CUDA devices.

    One GPU or the CPU: None, and the model is moved whole to `device` as before.
    """
    return "auto" if device.type == "cuda" and cuda_devices > 1 else None


def _dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / f).is_file() for f in TOKENIZER_FILES)


def load_tokenizer(folder: str | Path, fallback: str | Path | None = None):
    """The tokenizer of `folder` (or of `fallback`, e.g. the base, when an adapter has none), with a pad token."""
    from transformers import AutoTokenizer

    folder = Path(folder)
    source = folder if _has_tokenizer(folder) or fallback is None else Path(fallback)
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(
    base_dir: str | Path,
    adapter_dir: str | Path | None = None,
    device: torch.device | None = None,
    *,
    spread: bool = False,
):
    """The causal LM in eval mode; a PeftModel when an adapter folder is given.

    `spread=True` (the target fine-tune) places the layers over all GPUs of the instance
    when it has several, so a model larger than one GPU still loads.
    """
    from transformers import AutoModelForCausalLM

    device = device or pick_device()
    device_map = device_map_for(device, torch.cuda.device_count() if device.type == "cuda" else 0) if spread else None
    model = AutoModelForCausalLM.from_pretrained(
        str(base_dir), dtype=_dtype(device), local_files_only=True, device_map=device_map
    )
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    return (model if device_map else model.to(device)).eval()


def load_reward_model(
    base_dir: str | Path,
    adapter_dir: str | Path | None = None,
    device: torch.device | None = None,
    pad_token_id: int | None = None,
):
    """A scalar-score model: the base with a one-label sequence-classification head.

    From a plain causal-LM folder the head is new; with a trained reward adapter the
    adapter's `modules_to_save` copy of the head replaces it on load.
    """
    from transformers import AutoModelForSequenceClassification

    device = device or pick_device()
    if pad_token_id is None:
        pad_token_id = load_tokenizer(adapter_dir or base_dir, fallback=base_dir).pad_token_id
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base_dir), num_labels=1, dtype=_dtype(device), local_files_only=True, pad_token_id=pad_token_id
    )
    model.config.pad_token_id = pad_token_id
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    return model.to(device).eval()


def lora_target_modules(model) -> list[str]:
    """The projection names of `model` that LoRA should adapt, in a stable order."""
    present: set[str] = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            leaf = name.rsplit(".", 1)[-1]
            if leaf in PROJECTION_NAMES:
                present.add(leaf)
    ordered = [n for n in PROJECTION_NAMES if n in present]
    if not ordered:
        raise ValueError(f"{type(model).__name__} has none of the known attention/MLP projection names")
    return ordered
