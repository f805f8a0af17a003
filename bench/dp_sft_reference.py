"""DP-SFT of the target directly: the reference a user would try instead of synthetic data.

    .venv/bin/python bench/dp_sft_reference.py --world <dir> --epsilons 1,4,8 --out <file.json>

For each ε: the target base (pretrained on the world's public corpus, the same cache and
steps as bench/world_check.py and `rewardds bench`) is fine-tuned on the private train set
with DP-SGD by the `train-generator` stage (Opacus, LoRA, σ from Opacus' RDP accountant
for ε, δ), then evaluated on the private test set by the `evaluate` stage with the world's
answerPattern. A reference row, not the product: it invokes the job stages directly, as
world_check.py does. Figures land in --out (JSON) as they are measured; aggregates only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from world_check import (
    ROOT,
    add_dp_options,
    add_pretrain_options,
    dp_train_config,
    evaluate,
    jsonl_channel,
    keep_adapter,
    noise_for,
    pretrain_settings,
    run_stage,
)

from rewardds_jobs.pretrain import pretrain_tiny_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--epsilons", required=True, help="comma-separated")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=ROOT / "bench/out/dp-sft")
    add_pretrain_options(parser)
    parser.add_argument("--max-new-tokens", type=int, default=72)
    add_dp_options(parser, seed_help="seed of the DP training (rewardds bench passes each grid seed)")
    args = parser.parse_args()

    world = args.world.resolve()
    pattern = json.loads((world / "world.json").read_text(encoding="utf-8"))["answerPattern"]
    work = args.work.resolve()
    target = pretrain_tiny_model(world / "corpus.jsonl", args.cache, size="target", settings=pretrain_settings(args))
    train = jsonl_channel(work / "data", "train", world / "train.jsonl")
    test = jsonl_channel(work / "data", "test", world / "test.jsonl")
    records = sum(1 for line in (world / "train.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())

    report = {
        "world": world.name,
        "args": {k: str(v) for k, v in vars(args).items()},
        "targetBase": str(target.path),
        "byEpsilon": {},
    }
    if args.out.is_file():  # resume, only if measured on this very base
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        if previous.get("targetBase") == report["targetBase"]:
            report["byEpsilon"] = previous.get("byEpsilon", {})
    for epsilon in [float(e) for e in args.epsilons.split(",") if e.strip()]:
        key = f"{epsilon:g}"
        if key in report["byEpsilon"]:
            continue
        started = time.perf_counter()
        sigma = noise_for(epsilon, args.delta, args.dp_batch, records, args.dp_epochs)
        config = dp_train_config(args, sigma, seed=args.seed)
        metrics, _ = run_stage(
            "train-generator", work / f"train-eps{key}", {"train": train, "base": target.path}, config
        )
        adapter = keep_adapter(work / f"train-eps{key}", work / f"adapter-eps{key}")
        rows, _ = evaluate(work, f"eval-eps{key}", target.path, test, pattern, adapter, args.max_new_tokens)
        report["byEpsilon"][key] = {
            "row": rows["round-0"],
            "epsilonSpent": metrics.get("epsilon"),
            "noiseMultiplier": sigma,
            "seconds": round(time.perf_counter() - started, 1),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"{time.strftime('%H:%M:%S')} DP-SFT at ε = {key}: {json.dumps(report['byEpsilon'][key])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
