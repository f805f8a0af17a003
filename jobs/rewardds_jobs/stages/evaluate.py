"""Evaluate (private zone, docs/design.md#evaluation).

Greedy answers of the base target and of each round's adapter on the test prompts,
compared with the references; with `answerPattern`, also the share whose extracted answer
equals the reference's. Only aggregate numbers are written: the metrics file
leaves the private zone, the answers do not.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ..config import EvaluateConfig
from ..contract import Job
from ..failure import JobInputError
from ..generate import Generator, ModelSpec
from ..metrics_text import answer_accuracy, compile_answer_pattern, score_all
from ..records import read_records

log = logging.getLogger(__name__)
ROUND_CHANNEL = re.compile(r"^adapter-round-(\d+)$")
# The request builder passes every round's adapter as one `adapters` input (SageMaker allows
# 10 ProcessingInputs) and names each round's folder in it (core/sagemaker/sagemaker-request.ts).
ROUND_VARIABLE = re.compile(r"^REWARDDS_ADAPTER_ROUND_(\d+)$")


def round_folders(job: Job[EvaluateConfig]) -> dict[int, Path]:
    """Round → adapter folder named by `REWARDDS_ADAPTER_ROUND_<r>`, relative to the `adapters` input."""
    named = {int(m.group(1)): value for var, value in job.env.items() if (m := ROUND_VARIABLE.match(var))}
    if not named:
        return {}
    root = job.channel("adapters")
    folders = {}
    for r, relative in sorted(named.items()):
        # Lexically, not resolved: the folder may be a link (local mode), but never `..` or absolute.
        inside = Path(os.path.normpath(relative))
        folder = root / inside
        if inside.is_absolute() or inside.parts[:1] in ((), ("..",), (".",)):
            raise JobInputError("adapters/", None, f"REWARDDS_ADAPTER_ROUND_{r}", "must name a folder inside the input")
        if not (folder / "adapter_config.json").is_file():
            raise JobInputError(f"adapters/{relative}", None, None, "not an adapter folder (no adapter_config.json)")
        folders[r] = folder
    return folders


def round_channels(job: Job[EvaluateConfig]) -> list[tuple[int, str]]:
    """(round, channel name) of every `adapter-round-<r>` input, in round order."""
    names: set[str] = set()
    inputs = job.processing_root / "input"
    if inputs.is_dir():
        names.update(p.name for p in inputs.iterdir() if p.is_dir() and ROUND_CHANNEL.match(p.name))
    for var in job.env:
        m = re.match(r"^SM_CHANNEL_ADAPTER_ROUND_(\d+)$", var)
        if m:
            names.add(f"adapter-round-{int(m.group(1))}")
    return sorted((int(ROUND_CHANNEL.match(n).group(1)), n) for n in names)


def run(job: Job[EvaluateConfig]) -> dict:
    cfg = job.config
    tests = read_records(job.jsonl_path("test"))
    prompts = [t["prompt"] for t in tests]
    references = [t["response"] for t in tests]
    target_base = job.model_path("target_base")
    folders = {r: job.model_path(name) for r, name in round_channels(job)} | round_folders(job)
    adapters = {f"round-{r}": folders[r] for r in sorted(folders)}
    if not adapters:
        log.info("no adapter named: evaluating the base target only")
    pattern = compile_answer_pattern(cfg.answer_pattern) if cfg.answer_pattern else None
    rows = []
    # One load of the target base; each round's adapter is switched in (no reload per round).
    with Generator(ModelSpec(target_base, name="base"), adapters=adapters) as model:
        for label in ["base", *adapters]:
            answers = model.generate(
                prompts,
                greedy=True,
                max_new_tokens=cfg.max_new_tokens,
                seed=cfg.seed,
                use_adapter=label != "base",
                adapter=None if label == "base" else label,
            )
            predictions = [a[0] for a in answers]
            row = {"model": label, "n": len(tests), **score_all(cfg.metrics, predictions, references)}
            if pattern is not None:
                row.update(answer_accuracy(pattern, predictions, references))
            rows.append(row)
            log.info("evaluated %s on %d test records", label, len(tests))
    return {"rows": rows}
