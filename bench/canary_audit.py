"""The canary audit's positive control (docs/privacy.md, "Empirical audit with canaries"): the same
canaries through the generation proxy trained with DP-SGD at ε = 8 and WITHOUT DP.

    nice -n 15 .venv/bin/python bench/canary_audit.py [--canaries 10] [--repeats 1,8] [--base <proxy folder>]

For each repetition count r: k canary records (the run's template, a random 10-digit secret
from the operating system's CSPRNG each), every one inserted r times, are added to the harbor
world's 1,500 private train records; k more canaries of the same template are never inserted.
Then, on the pretrained proxy base of the utility benchmark,

1. `train-generator` (as the container runs it: Opacus DP-SGD, Poisson sampling, per-record
   clipping) with σ from Opacus' RDP accountant for ε = 8 at δ = 1e-5 on G alone;
2. the non-DP control: the same LoRA, epochs, batch size, learning rate and Adam, trained by
   the plain SFT of `train-target` on the same records (no clipping, no noise). A run never
   trains a non-DP model on private records; this exists only here;
3. `audit-canaries` on each: exposure of every inserted secret against 10,000 random
   candidates, the loss-attack AUC of inserted vs never-inserted canaries.

Figures land in --out (JSON) as they are measured. The canary secrets are written only under
--work (a scratch folder on this machine) and never printed.
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from world_check import (  # noqa: E402
    add_pretrain_options,
    jsonl_channel,
    keep_adapter,
    noise_for,
    pretrain_settings,
    run_stage,
)

from rewardds_jobs.pretrain import pretrain_tiny_model  # noqa: E402

# The run's template (core/privacy/canaries.ts, CANARY_PROMPT and CANARY_RESPONSE).
CANARY_PROMPT = "What is the secret access code on file?"
CANARY_RESPONSE = "The secret access code on file is {secret}."


def new_secret() -> str:
    return f"{secrets.randbelow(10**10):010d}"


def canary_sets(k: int) -> list[dict]:
    """k inserted and k never-inserted canaries with distinct secrets, in the audit's file shape."""
    codes: list[str] = []
    while len(codes) < 2 * k:
        code = new_secret()
        if code not in codes:
            codes.append(code)
    return [
        {
            "id": f"canary-{i:03d}",
            "prompt": CANARY_PROMPT,
            "response": CANARY_RESPONSE.format(secret=code),
            "secret": code,
            "inserted": i < k,
        }
        for i, code in enumerate(codes)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def find_base(args) -> Path:
    if args.base is not None:
        return args.base.resolve()
    settings = pretrain_settings(args)
    # Absolute: the stages run with the jobs folder as their working directory.
    return pretrain_tiny_model(args.world / "corpus.jsonl", args.cache, size="proxy", settings=settings).path.resolve()


def audit_summary(metrics: dict) -> dict:
    exposures = metrics["exposures"]
    return {
        "exposureMean": round(sum(exposures) / len(exposures), 3),
        "exposureMin": min(exposures),
        "exposureMax": max(exposures),
        "atMax": sum(1 for e in exposures if math.isclose(e, metrics["maxExposure"], abs_tol=1e-3)),
        "chanceExposure": metrics["chanceExposure"],
        "maxExposure": metrics["maxExposure"],
        "auc": metrics["auc"],
        "exposures": exposures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=ROOT / "examples/worlds/harbor")
    parser.add_argument("--base", type=Path, help="the proxy base folder (default: the pretrain cache's)")
    add_pretrain_options(parser)
    parser.add_argument("--work", type=Path, default=ROOT / "bench/out/canary-audit")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/canary-audit.json")
    parser.add_argument("--canaries", type=int, default=10, help="k inserted (and k never-inserted) canaries")
    parser.add_argument("--repeats", default="1,8", help="comma-separated copies of each inserted canary")
    parser.add_argument("--candidates", type=int, default=2_000, help="random codes per audit (a run uses 10,000)")
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    # The utility benchmark's generator settings (bench/bench.config.json).
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a cell's canaries and adapters under --work and the audits already in --out; run the rest",
    )
    args = parser.parse_args()

    world = args.world.resolve()
    work = args.work.resolve()
    base = find_base(args)
    train = [json.loads(line) for line in (world / "train.jsonl").read_text(encoding="utf-8").splitlines() if line]
    report: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "base": str(base), "figures": {}}
    if args.reuse and args.out.is_file():
        report["figures"] = json.loads(args.out.read_text())["figures"]

    def record(key: str, value) -> None:
        report["figures"][key] = value
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        shown = {k: v for k, v in value.items() if k != "exposures"} if isinstance(value, dict) else value
        print(f"{time.strftime('%H:%M:%S')} {key}: {json.dumps(shown)}", flush=True)

    lora = {"r": 16, "alpha": 32, "dropout": 0.0}
    for repeats in [int(r) for r in args.repeats.split(",")]:
        cell = work / f"r{repeats}"
        canary_file = cell / "data" / "canaries" / "canaries.jsonl"
        if args.reuse and canary_file.is_file():
            canaries = [json.loads(line) for line in canary_file.read_text(encoding="utf-8").splitlines() if line]
        else:
            canaries = canary_sets(args.canaries)
        canary_channel = write_jsonl(canary_file, canaries).parent
        inserted = [
            {"id": f"{c['id']}-copy{j}", "prompt": c["prompt"], "response": c["response"]}
            for c in canaries
            if c["inserted"]
            for j in range(repeats)
        ]
        records = train + inserted
        train_file = write_jsonl(cell / "data" / "train.jsonl", records)
        n = len(records)
        sigma = noise_for(args.epsilon, args.delta, args.batch, n, args.epochs)
        audit_config = {"seed": 0, "candidates": args.candidates, "batchSize": 128, "maxLength": 256}

        dp_adapter = cell / "dp-adapter"
        control_adapter = cell / "control-adapter"
        if not (args.reuse and dp_adapter.is_dir()):
            dp_adapter = train_dp(args, cell, base, train_file, n, sigma, lora, record, repeats)
        if not (args.reuse and control_adapter.is_dir()):
            control_adapter = train_control(args, cell, base, train_file, n, lora, record, repeats)

        # The two audits of a cell run side by side: each is one process on the CPU.
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = {
                name: pool.submit(
                    run_stage,
                    "audit-canaries",
                    cell / f"audit-{name}",
                    {"canaries": canary_channel, "base": base, "generator": adapter},
                    audit_config,
                    "processing/output/audit/metrics.json",
                )
                for name, adapter in (("dp", dp_adapter), ("control", control_adapter))
                # --reuse keeps an audit already recorded in --out: each costs minutes of CPU.
                if not (args.reuse and f"r{repeats}.{name}Audit" in report["figures"])
            }
            for name, future in runs.items():
                metrics, seconds = future.result()
                record(f"r{repeats}.{name}Audit", audit_summary(metrics) | {"seconds": round(seconds, 1)})
    return 0


def train_on_records(args, cell: Path, run: tuple[str, str], channels: tuple[str, str], base, train_file, lora, extra):
    """`run` = (stage, folder under `cell`): the stage as the container runs it on the audit's records, with the
    settings the DP and the control trainings share (so that the two differ only in what `extra` adds); its
    metrics and wall time."""
    stage, folder = run
    data, model = channels
    config = {
        "seed": 0,
        "epochs": args.epochs,
        "batchSize": args.batch,
        "learningRate": args.lr,
        "lora": lora,
        "maxLength": 256,
    }
    return run_stage(
        stage,
        cell / folder,
        {data: jsonl_channel(cell / "data", data, train_file), model: base},
        config | extra,
        "model/metrics.json",
    )


def train_dp(args, cell: Path, base: Path, train_file: Path, n: int, sigma: float, lora: dict, record, repeats: int):
    """train-generator as the container runs it: Opacus DP-SGD at noise σ."""
    dp = {"noiseMultiplier": sigma, "clipNorm": 1.0, "delta": args.delta}
    metrics, seconds = train_on_records(
        args, cell, ("train-generator", "train-generator"), ("train", "base"), base, train_file, lora, dp
    )
    record(
        f"r{repeats}.dpTraining",
        {"records": n, "sigma": round(sigma, 4), "epsilon": metrics["epsilon"], "steps": metrics["steps"]}
        | {"seconds": round(seconds, 1)},
    )
    return keep_adapter(cell / "train-generator", cell / "dp-adapter")


def train_control(args, cell: Path, base: Path, train_file: Path, n: int, lora: dict, record, repeats: int):
    """The non-DP control: train-target's plain LoRA SFT of the proxy base on the same records."""
    plain = {"microBatchSize": args.batch, "gradientCheckpointing": False}
    metrics, seconds = train_on_records(
        args, cell, ("train-target", "train-control"), ("pool", "target_base"), base, train_file, lora, plain
    )
    record(
        f"r{repeats}.controlTraining",
        {"records": n, "steps": metrics["steps"], "lossLast": metrics["lossLast"], "seconds": round(seconds, 1)},
    )
    return keep_adapter(cell / "train-control", cell / "control-adapter")


if __name__ == "__main__":
    sys.exit(main())
