"""GPU check: every stage of the pipeline once, on the GPU, with shape-true models.

Run through bench/gpu-check.sh (one command, at most 8 minutes, one summary table). The
models have the real architectures' shapes (Qwen2.5-0.5B for the two proxies; Qwen2.5-1.5B
as the stand-in for the 7B target, or the 7B shape itself with --target 7b) and random
weights: nothing is downloaded. Each stage runs as the container runs it,
`python -m rewardds_jobs <stage>`, in a SageMaker-like folder layout, each stage's
outputs feeding the next. Per stage the table gives: seconds, peak GPU memory (sampled
from nvidia-smi while the stage runs), tokens/s (the job's own metrics), whether vLLM
generated, and for the two DP trainings the DP/plain step ratio (bench/dp_step.py).

The pool, working set and test set that the Lambdas would make are built here by simple
rules (top reward per query); the numbers are about speed and memory, not quality.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOBS = REPO / "jobs"

# From the published config.json of each model (architecture shapes only; no weights): one column
# per Qwen2Config key.
_SHAPE_KEYS = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "tie_word_embeddings",
)
_SHAPE_ROWS = {
    "qwen2.5-0.5b": (896, 4864, 24, 14, 2, 151936, True),
    "qwen2.5-1.5b": (1536, 8960, 28, 12, 2, 151936, True),
    # Not a real model: the CPU smoke test's shape (jobs/tests/test_gpu_check.py).
    "tiny": (64, 128, 2, 4, 2, 320, True),
    "qwen2.5-7b": (3584, 18944, 28, 28, 4, 152064, False),
}
SHAPES = {name: dict(zip(_SHAPE_KEYS, row, strict=True)) for name, row in _SHAPE_ROWS.items()}
TRAINING_STAGES = {"train-generator", "train-reward", "train-target"}


class NoCuda(SystemExit):
    pass


def require_cuda(torch_module=None) -> str:
    """The device's name; exits at once, saying why, when there is no CUDA device."""
    torch = torch_module
    if torch is None:
        import torch
    if not torch.cuda.is_available():
        built = getattr(torch.version, "cuda", None) or "none (a CPU-only build)"
        raise NoCuda(
            f"gpu-check: no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, "
            f"CUDA build {built}). This check needs an NVIDIA GPU; on CPU run the test suite instead."
        )
    return torch.cuda.get_device_name(0)


def write_model(out: Path, shape: str, kind: str = "causal", device: str = "cuda") -> Path:
    """A model folder with the shape's config, random bf16 weights and the offline byte-level tokenizer."""
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        Qwen2Config,
    )

    sys.path.insert(0, str(JOBS))
    from rewardds_jobs.tiny import build_tokenizer

    tokenizer = build_tokenizer()
    config = Qwen2Config(
        **SHAPES[shape],
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        torch_dtype="bfloat16",
        **({"num_labels": 1} if kind == "reward" else {}),
    )
    factory = AutoModelForSequenceClassification if kind == "reward" else AutoModelForCausalLM
    torch.manual_seed(0)
    # Initialised on the GPU: a 7B-shaped model would take minutes on the CPU.
    with torch.device(device):
        model = factory.from_config(config, torch_dtype=torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    del model
    torch.cuda.empty_cache()
    return out


def records(n: int, prefix: str) -> list[dict]:
    topics = [
        "fever",
        "a sprained ankle",
        "a mortgage rate",
        "an index fund",
        "a cough",
        "a tax return",
    ]
    return [
        {
            "id": f"{prefix}-{i:05d}",
            "prompt": f"What should I know about {topics[i % len(topics)]}? Case {i}, described at some length.",
            "response": f"About {topics[i % len(topics)]}: rest, keep records, ask a professional. Case {i}. " * 4,
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class PeakMemory:
    """Peak `memory.used` of GPU 0 (MiB) from nvidia-smi while a stage runs."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
            except FileNotFoundError:  # the CPU smoke test
                return
            if out.returncode == 0 and out.stdout.strip():
                self.peak = max(self.peak, int(float(out.stdout.strip().splitlines()[0])))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class StageResult:
    stage: str
    ok: bool
    seconds: float
    peak_mib: int
    tokens_per_second: float | None
    vllm: bool | None
    dp_ratio: float | None = None
    note: str = ""
    metrics: dict = field(default_factory=dict)


def tokens_per_second(metrics: dict) -> float | None:
    """The job's own rate: `tokensPerSecond`, else the sum of `<x>TokensPerSecond` (refine has two)."""
    if isinstance(metrics.get("tokensPerSecond"), (int, float)):
        return float(metrics["tokensPerSecond"])
    rates = [v for k, v in metrics.items() if k.endswith("TokensPerSecond") and isinstance(v, (int, float))]
    return float(sum(rates)) if rates else None


class Layout:
    """One stage's SageMaker folders, as jobs/rewardds_jobs/contract.py reads them."""

    def __init__(self, root: Path, stage: str):
        self.root, self.stage = root, stage
        self.training = stage in TRAINING_STAGES

    def input(self, channel: str) -> Path:
        return self.root / ("input/data" if self.training else "processing/input") / channel

    def output(self, name: str) -> Path:
        return self.root / "processing" / "output" / name

    @property
    def model(self) -> Path:
        return self.root / "model"

    def env(self) -> dict:
        return {
            "SM_INPUT_DIR": str(self.root / "input"),
            "SM_MODEL_DIR": str(self.model),
            "SM_OUTPUT_DATA_DIR": str(self.root / "output" / "data"),
            "SM_OUTPUT_DIR": str(self.root / "output"),
            "SM_PROCESSING_DIR": str(self.root / "processing"),
        }


def run_stage(
    work: Path,
    stage: str,
    inputs: dict,
    config: dict,
    env: dict | None = None,
    timeout: float = 300,
):
    """Lays out `inputs` (channel → folder to link, or rows to write as <channel>.jsonl), runs the stage."""
    layout = Layout(work / stage, stage)
    shutil.rmtree(layout.root, ignore_errors=True)
    for channel, value in inputs.items():
        folder = layout.input(channel)
        folder.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Path):
            folder.symlink_to(value.resolve(), target_is_directory=True)
        else:
            write_jsonl(folder / f"{channel}.jsonl", value)
    config_dir = layout.input("config")
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    # Prepend, not replace: on a machine whose packages come from PYTHONPATH (wheels unpacked
    # beside the system's torch), the job must still see them.
    python_path = os.pathsep.join(p for p in (str(JOBS), os.environ.get("PYTHONPATH", "")) if p)
    job_env = {**os.environ, **layout.env(), **(env or {}), "PYTHONPATH": python_path}
    started = time.perf_counter()
    with PeakMemory() as memory:
        proc = subprocess.run(
            [sys.executable, "-m", "rewardds_jobs", stage],
            cwd=JOBS, env=job_env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    log = proc.stdout + proc.stderr
    (work / f"{stage}.log").write_text(log, encoding="utf-8")
    metrics_files = sorted(layout.root.rglob("metrics.json"), key=lambda p: p.stat().st_mtime)
    metrics = json.loads(metrics_files[-1].read_text()) if metrics_files else {}
    generation = any(word in stage for word in ("pairs", "queries", "candidates", "refine", "evaluate"))
    result = StageResult(
        stage=stage,
        ok=proc.returncode == 0,
        seconds=float(metrics.get("seconds", seconds)),
        peak_mib=memory.peak,
        tokens_per_second=tokens_per_second(metrics),
        vllm=("vllm" in log.lower() and "falling back" not in log.lower()) if generation else None,
        note="" if proc.returncode == 0 else (log.strip().splitlines() or ["exit " + str(proc.returncode)])[-1][:120],
        metrics=metrics,
    )
    return result, layout


LORA = {"r": 16, "alpha": 32, "dropout": 0.05}


def dp_config(max_length: int) -> dict:
    return {
        "seed": 0, "epochs": 1, "batchSize": 16, "learningRate": 5e-4, "lora": LORA, "maxLength": max_length,
        "noiseMultiplier": 1.0, "clipNorm": 1.0, "delta": 1e-5,
    }  # fmt: skip


def dp_ratio(base: Path, kind: str, device: str = "cuda") -> float | None:
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "dp_step.py"), "--kind", kind, "--base", str(base), "--device", device,
         "--batch", "8", "--max-length", "256", "--repeats", "5", "--json"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])["ratio"] if out.returncode == 0 and lines else None


def pool_from_scores(scores: list[dict]) -> tuple[list[dict], list[dict]]:
    """The top-reward candidate per query (pool) and best/worst pairs (working set), as the Lambdas choose."""
    pool, working = [], []
    for row in scores:
        ranked = sorted(row["candidates"], key=lambda c: c["reward"], reverse=True)
        pool.append(
            {
                "id": row["id"],
                "prompt": row["prompt"],
                "response": ranked[0]["text"],
                "reward": ranked[0]["reward"],
            }
        )
        working.append(
            {"id": row["id"], "prompt": row["prompt"], "chosen": ranked[0]["text"], "rejected": ranked[-1]["text"],
             "reward": ranked[0]["reward"]}
        )  # fmt: skip
    return pool, working


def run_all(
    work: Path,
    target_shape: str,
    quick: bool,
    proxy_shape: str = "qwen2.5-0.5b",
    device: str = "cuda",
) -> list[StageResult]:
    def say(line: str) -> None:
        print(line, flush=True)

    models = work / "models"
    say("building shape-true models (random weights)")
    proxy = write_model(models / "proxy", proxy_shape, device=device)
    target = write_model(models / "target", target_shape, device=device)
    n, length, new = (32, 128, 32) if quick else (128, 256, 64)
    train, test = records(n, "r"), records(8, "t")
    sampling = {"temperature": 1.0, "topP": 0.9, "maxNewTokens": new}
    results: list[StageResult] = []

    def stage(name, inputs, config, env=None):
        say(f"stage {name}")
        result, layout = run_stage(work, name, inputs, config, env)
        results.append(result)
        # Each row as soon as it is known: a run cut short by the time cap still reports its stages.
        say(row(result))
        return layout

    tg = stage("train-generator", {"train": train, "base": proxy}, dp_config(length))
    bp = stage(
        "build-pairs",
        {"train": train, "base": proxy, "generator": tg.model},
        {"seed": 0, "maxNewTokens": new, "maxLength": length, "batchSize": 16},
    )
    pairs = bp.output("pairs")
    tr = stage("train-reward", {"pairs": pairs, "base": proxy}, dp_config(length))
    sq = stage(
        "synthesize-queries",
        {"base": proxy, "generator": tg.model},
        {"seed": 0, "queries": n, **sampling, "fewShot": 0, "attemptsPerQuery": 4},
    )
    sc = stage(
        "sample-candidates",
        {"base": proxy, "generator": tg.model, "queries": sq.output("queries")},
        {"seed": 0, "candidates": 4, **sampling},
    )
    ss = stage(
        "score",
        {
            "base": proxy,
            "generator": tg.model,
            "reward": tr.model,
            "candidates": sc.output("candidates"),
        },
        {"batchSize": 16, "maxLength": length},
    )
    scores_files = sorted(ss.output("scores").glob("*.jsonl"))
    pool, working = pool_from_scores(read_jsonl(scores_files[0])) if scores_files else ([], [])
    tt = stage(
        "train-target",
        {"pool": pool, "target_base": target},
        {
            "seed": 0,
            "epochs": 1,
            "batchSize": 16,
            "learningRate": 2e-4,
            "lora": LORA,
            "maxLength": 2 * length,
        },
    )
    stage(
        "refine",
        {
            "base": proxy,
            "generator": tg.model,
            "target_base": target,
            "target": tt.model,
            "working": working,
        },
        {
            "seed": 0,
            "round": 1,
            "candidates": 2,
            **sampling,
            "critiqueMaxNewTokens": new // 2,
        },
    )
    stage(
        "evaluate",
        {"test": test, "target_base": target, "adapters": tt.root},
        {"seed": 0, "maxNewTokens": new, "metrics": ["rougeL", "exactMatch"]},
        env={"REWARDDS_ADAPTER_ROUND_0": "model/"},
    )
    for result, kind in ((results[0], "generator"), (results[2], "reward")):
        say(f"DP/plain step ratio, {kind}")
        result.dp_ratio = dp_ratio(proxy, kind, device)
    return results


def row(r: StageResult) -> str:
    def cell(value, fmt):
        return "–" if value is None else format(value, fmt)

    vllm = "–" if r.vllm is None else ("yes" if r.vllm else "no")
    return (
        f"| {r.stage} | {'ok' if r.ok else 'FAILED'} | {r.seconds:.1f} | {r.peak_mib} | "
        f"{cell(r.tokens_per_second, '.0f')} | {vllm} | {cell(r.dp_ratio, '.2f')} |"
    )


def table(results: list[StageResult], device: str, target_shape: str) -> str:
    head = "| stage | ok | seconds | peak GPU MiB | tokens/s | vLLM | DP/plain step |"
    lines = [
        f"GPU check on {device}; proxies Qwen2.5-0.5B-shaped, target {target_shape}-shaped, random weights",
        "",
        head,
        "|---|---|--:|--:|--:|---|--:|",
    ]
    lines += [row(r) for r in results]
    failed = [r for r in results if not r.ok]
    lines += [""] + [f"{r.stage} failed: {r.note}" for r in failed]
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target",
        choices=("1.5b", "7b"),
        default="1.5b",
        help="target shape (default: 1.5B stand-in)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer records and tokens")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    try:
        device = require_cuda()
    except NoCuda as error:
        print(error, file=sys.stderr)
        return 2
    target_shape = f"qwen2.5-{args.target}"
    work = args.keep or Path(tempfile.mkdtemp(prefix="rewardds-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    results = run_all(work, target_shape, args.quick)
    print(table(results, device, target_shape))
    print(f"\nlogs and outputs: {work}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
