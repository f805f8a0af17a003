"""Acceptance figures of a benchmark world (docs/worlds.md): is the private task unknown to the
base target, and learnable at this scale?

    nice -n 10 .venv/bin/python bench/world_check.py --world examples/worlds/harbor [--dp]

1. pretrains the target base (and, for --dp, the proxy base) on the world's public corpus
   (`pretrain-tiny-model`'s cache, so a rerun reuses them);
2. answer accuracy of the base target on the private test set (the `evaluate` stage, run as
   the container runs it, with the world's answerPattern) and on the public seeds (does the
   base know the public facts and the answer format?);
3. a target fine-tuned WITHOUT DP directly on the private train set (the `train-target` stage
   on train.jsonl as its pool: LoRA SFT, as the pipeline trains it), then evaluated;
4. with --dp: the generation proxy DP-trained at ε (the `train-generator` stage, Opacus, σ from
   Opacus' RDP accountant for ε, δ), evaluated the same way.

Every figure lands in --out (JSON) as it is measured, with its wall time. The private records
stay on this machine: only aggregate numbers are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOBS = ROOT / "jobs"
sys.path.insert(0, str(JOBS))

from rewardds_jobs.pretrain import PretrainSettings, pretrain_tiny_model  # noqa: E402


def stage_env(root: Path, channels: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(
        {
            "PYTHONPATH": str(JOBS),
            "REWARDDS_DEVICE": "cpu",
            "REWARDDS_GENERATION": "transformers",
            "SM_INPUT_DIR": str(root / "input"),
            "SM_MODEL_DIR": str(root / "model"),
            "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
            "SM_OUTPUT_DIR": str(root / "output"),
            "SM_PROCESSING_DIR": str(root / "processing"),
        }
    )
    for name, path in channels.items():
        env["SM_CHANNEL_" + name.upper().replace("-", "_")] = str(path)
    return env


def jsonl_channel(root: Path, name: str, source: Path) -> Path:
    folder = root / "channels" / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / f"{name}.jsonl")
    return folder


def run_stage(
    stage: str, root: Path, channels: dict[str, Path], config: dict, metrics_at: str | None = None
) -> tuple[dict, float]:
    """One stage as the container runs it (`python -m rewardds_jobs <stage>`); its metrics and wall time.

    The metrics are read from `metrics_at` under root when given, else where the stage's kind writes them.
    """
    shutil.rmtree(root, ignore_errors=True)
    config_dir = root / "channels" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    channels = {**channels, "config": config_dir}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "rewardds_jobs", stage],
        cwd=JOBS,
        env=stage_env(root, channels),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{stage} failed: {result.stderr[-1500:]}")
    if metrics_at is None:
        metrics_at = ("model" if stage.startswith("train-") else "processing/output/eval") + "/metrics.json"
    return json.loads((root / metrics_at).read_text()), seconds


def keep_adapter(stage_folder: Path, dest: Path) -> Path:
    """A copy of the stage's trained adapter at `dest`, so a later run of that stage cannot overwrite it."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(stage_folder / "model", dest)
    return dest


def evaluate(
    work: Path,
    name: str,
    base: Path,
    test_channel: Path,
    pattern: str,
    adapter: Path | None,
    tokens: int,
):
    channels = {"test": test_channel, "target_base": base}
    if adapter is not None:
        channels["adapter-round-0"] = adapter
    config = {
        "seed": 0,
        "maxNewTokens": tokens,
        "metrics": ["rougeL", "exactMatch"],
        "answerPattern": pattern,
    }
    metrics, seconds = run_stage("evaluate", work / name, channels, config)
    return {row["model"]: row for row in metrics["rows"]}, seconds


def seeds_as_test(world: Path, out: Path) -> Path | None:
    """The public seeds with the oracle's answer as a reference, to check what the base knows publicly."""
    oracle_file = world / "oracle.py"
    if not oracle_file.is_file():
        return None
    spec = importlib.util.spec_from_file_location("world_oracle", oracle_file)
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    rows = []
    for line in (world / "seeds.jsonl").read_text(encoding="utf-8").splitlines():
        seed = json.loads(line)
        code = oracle.answer(seed["prompt"])
        if code is not None:
            rows.append(
                {
                    "id": seed["id"],
                    "prompt": seed["prompt"],
                    "response": f"berth {code}",
                }
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out


def noise_for(epsilon: float, delta: float, batch: int, records: int, epochs: int) -> float:
    from opacus.accountants.utils import get_noise_multiplier

    from rewardds_jobs.dp import planned_steps, sample_rate

    return float(
        get_noise_multiplier(
            target_epsilon=epsilon,
            target_delta=delta,
            sample_rate=sample_rate(batch, records),
            steps=planned_steps(epochs, batch, records),
            accountant="rdp",
        )
    )


def add_pretrain_options(parser: argparse.ArgumentParser) -> None:
    """The pretrained bases' options, alike in every bench script so that they share one cache."""
    parser.add_argument("--cache", type=Path, default=ROOT / ".rewardds/pretrain")
    parser.add_argument("--pretrain-steps", type=int, default=1200)
    parser.add_argument("--pretrain-batch", type=int, default=8)
    parser.add_argument("--pretrain-vocab", type=int, default=1024, help="0: bytes only; N: learnt from the corpus")
    parser.add_argument("--pretrain-block", type=int, default=64, help="tokens per packed pretraining row")


def pretrain_settings(args: argparse.Namespace) -> PretrainSettings:
    return PretrainSettings(
        steps=args.pretrain_steps, batch_size=args.pretrain_batch, vocab=args.pretrain_vocab, block=args.pretrain_block
    )


def add_dp_options(parser: argparse.ArgumentParser, *, seed_help: str) -> None:
    """The DP training's options that dp_train_config reads."""
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--dp-epochs", type=int, default=10)
    parser.add_argument("--dp-batch", type=int, default=128)
    parser.add_argument("--dp-lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0, help=seed_help)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=ROOT / "examples/worlds/harbor")
    parser.add_argument("--work", type=Path, default=ROOT / "bench/out/world-check")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/world-check.json")
    add_pretrain_options(parser)
    parser.add_argument("--target-epochs", type=int, default=2)
    parser.add_argument("--target-batch", type=int, default=16)
    parser.add_argument("--target-lr", type=float, default=2e-3)
    parser.add_argument("--max-new-tokens", type=int, default=72)
    parser.add_argument("--skip-base", action="store_true", help="do not evaluate the base target (already measured)")
    parser.add_argument(
        "--probe-train",
        type=int,
        default=120,
        help="also evaluate on the first N train records (recall, not paraphrase)",
    )
    parser.add_argument("--skip-target", action="store_true", help="do not fine-tune the target (already measured)")
    parser.add_argument("--dp", action="store_true", help="also DP-train the generation proxy at --epsilon")
    parser.add_argument("--epsilon", type=float, default=8.0)
    parser.add_argument(
        "--generator-loss-on",
        choices=["response", "prompt-and-response"],
        default="response",
        help="the DP generator's generator.lossOn (with --dp)",
    )
    add_dp_options(parser, seed_help="seed of the trainings (rewardds bench passes each grid seed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)

    world = args.world.resolve()
    meta = json.loads((world / "world.json").read_text(encoding="utf-8"))
    pattern = meta["answerPattern"]
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "world": meta["name"],
        "args": {k: str(v) for k, v in vars(args).items()},
        "figures": {},
    }

    def record(key: str, value) -> None:
        report["figures"][key] = value
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"{time.strftime('%H:%M:%S')} {key}: {json.dumps(value)}", flush=True)

    settings = pretrain_settings(args)
    test = jsonl_channel(work / "data", "test", world / "test.jsonl")
    if args.skip_base and args.skip_target:
        if args.dp:
            dp_generator(args, world, work, settings, test, pattern, record)
        return 0
    target = pretrain_tiny_model(world / "corpus.jsonl", args.cache, size="target", settings=settings)
    record("pretrainTarget", _pretrain_summary(target))

    train = jsonl_channel(work / "data", "pool", world / "train.jsonl")
    probe = None
    if args.probe_train:
        probe = work / "data" / "train-probe"
        probe.mkdir(parents=True, exist_ok=True)
        lines = (world / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (probe / "test.jsonl").write_text("".join(lines[: args.probe_train]), encoding="utf-8")
    if not args.skip_base:
        rows, seconds = evaluate(work, "eval-base", target.path, test, pattern, None, args.max_new_tokens)
        record("baseTargetPrivateTest", {**rows["base"], "seconds": round(seconds, 1)})
    seeds_file = seeds_as_test(world, work / "data" / "seeds-test" / "test.jsonl")
    if seeds_file is not None and not args.skip_base:
        rows, seconds = evaluate(
            work,
            "eval-seeds",
            target.path,
            seeds_file.parent,
            pattern,
            None,
            args.max_new_tokens,
        )
        record("baseTargetPublicSeeds", {**rows["base"], "seconds": round(seconds, 1)})

    if not args.skip_target:
        nonprivate_target(args, work, target.path, train, test, probe, pattern, record)
    if args.dp:
        dp_generator(args, world, work, settings, test, pattern, record)
    return 0


def nonprivate_target(args, work: Path, base: Path, train: Path, test: Path, probe: Path | None, pattern: str, record):
    target_config = {
        "seed": args.seed,
        "epochs": args.target_epochs,
        "batchSize": args.target_batch,
        "learningRate": args.target_lr,
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0},
        "maxLength": 256,
    }
    metrics, seconds = run_stage(
        "train-target",
        work / "train-target",
        {"pool": train, "target_base": base},
        target_config,
    )
    record(
        "nonPrivateTrainTarget",
        {
            "config": target_config,
            "steps": metrics["steps"],
            "lossFirst": metrics["lossFirst"],
            "lossLast": metrics["lossLast"],
            "seconds": round(seconds, 1),
        },
    )
    adapter = keep_adapter(work / "train-target", work / "nonprivate-adapter")
    rows, seconds = evaluate(work, "eval-nonprivate", base, test, pattern, adapter, args.max_new_tokens)
    record("nonPrivateTargetPrivateTest", {**rows["round-0"], "seconds": round(seconds, 1)})
    if probe is not None:
        rows, seconds = evaluate(work, "eval-probe", base, probe, pattern, adapter, args.max_new_tokens)
        record("nonPrivateTargetTrainProbe", {**rows["round-0"], "seconds": round(seconds, 1)})


def dp_train_config(args, sigma: float, seed: int) -> dict:
    """The train-generator config both DP checks use: the CLI's DP settings at noise `sigma`, a fixed LoRA."""
    return {
        "seed": seed,
        "epochs": args.dp_epochs,
        "batchSize": args.dp_batch,
        "learningRate": args.dp_lr,
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0},
        "maxLength": 256,
        "noiseMultiplier": sigma,
        "clipNorm": 1.0,
        "delta": args.delta,
    }


def dp_generator(args, world: Path, work: Path, settings, test: Path, pattern: str, record):
    """The generation proxy DP-trained at ε by the train-generator stage, evaluated like the target."""
    if True:
        proxy = pretrain_tiny_model(world / "corpus.jsonl", args.cache, size="proxy", settings=settings)
        record("pretrainProxy", _pretrain_summary(proxy))
        records = sum(1 for line in (world / "train.jsonl").read_text().splitlines() if line.strip())
        sigma = noise_for(args.epsilon, args.delta, args.dp_batch, records, args.dp_epochs)
        dp_config = {**dp_train_config(args, sigma, seed=args.seed), "lossOn": args.generator_loss_on}
        generator_train = jsonl_channel(work / "data", "train", world / "train.jsonl")
        metrics, seconds = run_stage(
            "train-generator",
            work / "train-generator",
            {"train": generator_train, "base": proxy.path},
            dp_config,
        )
        record(
            "dpGenerator",
            {
                "config": dp_config,
                "epsilon": metrics["epsilon"],
                "steps": metrics["steps"],
                "seconds": round(seconds, 1),
            },
        )
        generator = keep_adapter(work / "train-generator", work / "dp-generator-adapter")
        rows, seconds = evaluate(work, "eval-generator", proxy.path, test, pattern, generator, args.max_new_tokens)
        record("baseProxyPrivateTest", rows["base"])
        record("dpGeneratorPrivateTest", {**rows["round-0"], "seconds": round(seconds, 1)})


def _pretrain_summary(result) -> dict:
    return {
        "path": str(result.path),
        "cached": result.cached,
        "lossFirst": round(result.losses[0], 4),
        "lossLast10": round(sum(result.losses[-10:]) / len(result.losses[-10:]), 4),
        "seconds": round(result.seconds, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
