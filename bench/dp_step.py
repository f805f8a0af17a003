"""How much one DP-SGD step costs next to one plain step, on the same tiny model and batch.

Run: .venv/bin/python bench/dp_step.py [--kind generator|reward] [--batch 16] [--repeats 15]

Both steps use the same LoRA model (copied before Opacus' hooks go on), the same batch
and Adam; the DP step is dp.DPTrainer.step: per-row gradients from Opacus' hooks, summed
per record, clipped, noised and accounted. Prints the median of each and their ratio.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))

from rewardds_jobs.config import LoraConfig, ProxyTrainConfig
from rewardds_jobs.dp import DPTrainer
from rewardds_jobs.lora import attach_lora
from rewardds_jobs.models import (
    load_causal_lm,
    load_reward_model,
    load_tokenizer,
    lora_target_modules,
)
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.sft import encode_sft, lm_record_losses, sft_batch
from rewardds_jobs.stages.proxy_training import dp_settings
from rewardds_jobs.stages.train_reward import (
    encode_record,
    pair_batch,
    pair_record_losses,
)
from rewardds_jobs.tiny import make_tiny_model

CPU = torch.device("cpu")


def build(kind: str, base: Path, batch_size: int, max_length: int, device: torch.device = CPU):
    tokenizer = load_tokenizer(base)
    pad = tokenizer.pad_token_id
    lora = LoraConfig(r=16, alpha=32, dropout=0.0)
    torch.manual_seed(0)
    if kind == "generator":
        model = load_causal_lm(base, device=device)
        model = attach_lora(model, lora, lora_target_modules(model))
        examples = [
            encode_sft(
                tokenizer,
                format_prompt(tokenizer, f"Question number {i}: what should I do about it?"),
                f"A measured answer for case {i}, with a few more words to fill the row.",
                max_length,
            )
            for i in range(batch_size)
        ]
        return model, sft_batch(examples, pad).to(device), lm_record_losses
    model = load_reward_model(base, device=device, pad_token_id=pad)
    model = attach_lora(model, lora, lora_target_modules(model), reward=True)
    records = []
    for i in range(batch_size):
        q = f"Question number {i}: what should I do about it?"
        a, b, g = (
            f"A measured answer for case {i}.",
            "No idea.",
            f"Something vague about {i}.",
        )
        pairs = [
            {"prompt": q, "chosen": a, "rejected": b},
            {"prompt": q, "chosen": a, "rejected": g},
            {"prompt": q, "chosen": g, "rejected": b},
        ]
        records.append(encode_record(tokenizer, {"pairs": pairs}, max_length))
    return model, pair_batch(records, pad).to(device), pair_record_losses


def timed(step, repeats: int, warmup: int = 2) -> float:
    # CUDA runs asynchronously: wait for the device before reading the clock.
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("generator", "reward"), default="generator")
    parser.add_argument("--batch", type=int, default=16, help="records per batch")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument(
        "--base",
        type=Path,
        help="an existing model folder instead of a tiny one (bench/gpu_check.py)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args()
    device = torch.device(args.device)

    with tempfile.TemporaryDirectory() as tmp:
        base = args.base or make_tiny_model(Path(tmp) / "base", layers=args.layers, hidden=args.hidden, seed=0)
        dp_model, batch, record_losses = build(args.kind, base, args.batch, args.max_length, device)
        plain_model = copy.deepcopy(dp_model)

    plain_params = [p for p in plain_model.parameters() if p.requires_grad]
    plain_optimizer = torch.optim.Adam(plain_params, lr=1e-4)
    plain_model.train()

    def plain_step():
        plain_optimizer.zero_grad(set_to_none=True)
        record_losses(plain_model, batch).mean().backward()
        plain_optimizer.step()

    # The DP settings as the proxy stages build them from their config (σ = 1, C = 1).
    proxy = ProxyTrainConfig(noise_multiplier=1.0, delta=1e-5, batch_size=args.batch, epochs=1, learning_rate=1e-4)
    settings = dp_settings(proxy)
    trainer = DPTrainer(
        dp_model,
        record_losses=record_losses,
        settings=settings,
        records=args.batch * 10,
    )
    dp_model.train()

    plain = timed(plain_step, args.repeats)
    dp = timed(lambda: trainer.step(batch), args.repeats)
    trainer.close()
    rows = batch.inputs["input_ids"].shape
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "kind": args.kind,
                    "plainMs": plain * 1000,
                    "dpMs": dp * 1000,
                    "ratio": dp / plain,
                }
            )
        )
        return
    print(
        f"kind={args.kind} records={args.batch} rows={rows[0]} seq={rows[1]} layers={args.layers} "
        f"hidden={args.hidden} threads={torch.get_num_threads()} repeats={args.repeats}"
    )
    print(f"plain step  median {plain * 1000:.1f} ms")
    print(f"DP-SGD step median {dp * 1000:.1f} ms")
    print(f"ratio DP/plain {dp / plain:.2f}")


if __name__ == "__main__":
    main()
