"""`python -m rewardds_jobs <stage>`: run one stage on SageMaker-style directories.

SageMaker training runs the image with argv `train`; the stage then comes from
hyperparameters.json. Processing passes the stage as the container argument. Any failure
ends with exit code 1 and one line in the failure file (a training job's FailureReason) and,
unless the job is a training job, in the message file (a processing job's ExitMessage).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time

from .env_defaults import ENV_DEFAULTS

os.environ.update({name: value for name, value in ENV_DEFAULTS.items() if name not in os.environ})

from .failure import JobInputError, describe_unexpected, write_failure

# stage → (module under rewardds_jobs.stages, one line for --help). Modules are imported
# only when their stage runs, so a stage that is missing or broken fails only itself.
STAGES: dict[str, tuple[str, str]] = {
    "train-generator": ("train_generator", "DP-SGD LoRA fine-tune of the generation proxy G on the private records"),
    "build-pairs": ("build_pairs", "reward pairs per private record: a>base, a>G, G>base (greedy answers)"),
    "train-reward": ("train_reward", "DP-SGD fine-tune of the reward proxy R on the record-grouped pairs"),
    "synthesize-queries": ("synthesize_queries", "G samples M unique synthetic queries (few-shot from public seeds)"),
    "sample-candidates": ("sample_candidates", "G samples n candidate responses per query"),
    "score": ("score", "reward R(q, c) and perplexity of G for every candidate"),
    "train-target": ("train_target", "LoRA SFT of the target model on the filtered pool"),
    "refine": ("refine", "G critiques chosen vs rejected; the target writes improved responses"),
    "evaluate": ("evaluate", "ROUGE-L, BLEU and exact match of each round's target on the test set"),
    "audit-canaries": ("audit_canaries", "exposure, membership AUC and synthetic-data scan of the canary secrets"),
}
# Local mode only: where the job notes when its body (after the imports) started and ended,
# so the runner can tell the pipeline's own overhead from the jobs' work. A file of the job
# folder, never of an output channel: it is not uploaded.
TIMING_FILE_ENV = "REWARDDS_TIMING_FILE"

TOOLS = {
    "make-tiny-model": "write a tiny random-init model folder offline (tests, local mode)",
    "pretrain-tiny-model": "pretrain a tiny base model on a public {text} corpus, cached (benchmark worlds)",
}

log = logging.getLogger("rewardds_jobs")


def usage() -> str:
    width = max(len(name) for name in [*STAGES, *TOOLS])
    lines = ["usage: python -m rewardds_jobs <stage>", "", "stages:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in STAGES.items()]
    lines += ["", "tools:"]
    lines += [f"  {name:<{width}}  {text}" for name, text in TOOLS.items()]
    lines += ["", "SageMaker training passes `train`; the stage then comes from hyperparameters.json."]
    return "\n".join(lines)


def resolve_stage(argv: list[str]) -> str:
    from .contract import read_stage_hyperparameter

    arg = argv[0] if argv else None
    if arg in (None, "train", "serve"):
        stage = read_stage_hyperparameter()
        if stage is None:
            raise JobInputError("hyperparameters.json", None, "stage", "missing (no stage given as argument)")
        arg = stage
    if arg not in STAGES:
        raise JobInputError("command line", None, "stage", f"unknown stage {arg!r}")
    return arg


def run_stage(stage: str) -> dict:
    from .contract import Job

    job = Job.from_env(stage)
    module = importlib.import_module(f"rewardds_jobs.stages.{STAGES[stage][0]}")
    body_start = time.time()
    started = time.perf_counter()
    try:
        metrics = dict(module.run(job) or {})
        metrics.setdefault("stage", stage)
        metrics["seconds"] = round(time.perf_counter() - started, 3)
        job.write_metrics(metrics)
        return metrics
    finally:
        write_timing(stage, body_start, time.time())


def write_timing(stage: str, body_start: float, body_end: float) -> None:
    path = os.environ.get(TIMING_FILE_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"stage": stage, "bodyStart": body_start, "bodyEnd": body_end}, f)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if argv and argv[0] in TOOLS:
        tool = importlib.import_module(
            "rewardds_jobs." + {"make-tiny-model": "tiny", "pretrain-tiny-model": "pretrain"}[argv[0]]
        )
        return tool.main(argv[1:])
    stage = "?"
    try:
        stage = resolve_stage(argv)
        log.info("stage %s starting", stage)
        metrics = run_stage(stage)
        log.info("stage %s done in %.1fs", stage, metrics["seconds"])
        return 0
    except JobInputError as error:
        message = str(error)
    except Exception as error:
        message = f"{stage}: {describe_unexpected(error)}"
    # Only the one-line reason is logged: a traceback's frames can hold record text.
    from .contract import TRAINING_STAGES

    write_failure(message, processing=stage not in TRAINING_STAGES)
    log.error("stage %s failed: %s", stage, message)
    return 1


if __name__ == "__main__":
    sys.exit(main())
