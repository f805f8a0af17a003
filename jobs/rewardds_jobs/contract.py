"""The SageMaker directory layout of docs/job-contract.md, resolved once per job.

Training jobs read `/opt/ml/input/data/<channel>` and write `/opt/ml/model` and
`/opt/ml/output/data`; processing jobs read `/opt/ml/processing/input/<channel>` and write
`/opt/ml/processing/output/<name>`. Each root can be moved with its SM_* variable, which
is how tests and local mode run the same code on a temporary folder.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .config import load_stage_config
from .failure import JobInputError
from .records import write_json

TRAINING_STAGES = frozenset({"train-generator", "train-reward", "train-target"})

# Where a processing stage writes its records; the first is also where metrics.json goes.
STAGE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "build-pairs": ("pairs",),
    "synthesize-queries": ("queries",),
    "sample-candidates": ("candidates",),
    "score": ("scores",),
    "refine": ("candidates",),
    "evaluate": ("eval",),
    "audit-canaries": ("audit",),
}

MODEL_MARKERS = ("config.json", "adapter_config.json")
METRICS_FILE = "metrics.json"


def env_channel_var(name: str) -> str:
    return "SM_CHANNEL_" + name.upper().replace("-", "_")


def read_stage_hyperparameter(env: Mapping[str, str] | None = None) -> str | None:
    """The `stage` of hyperparameters.json, the only key it may hold (SageMaker passes `train` as argv)."""
    env = os.environ if env is None else env
    path = Path(env.get("SM_INPUT_DIR", "/opt/ml/input")) / "config" / "hyperparameters.json"
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JobInputError("hyperparameters.json", None, None, "not valid JSON") from None
    if not isinstance(raw, dict):
        raise JobInputError("hyperparameters.json", None, None, "must hold a JSON object")
    # Keys the SageMaker SDK injects (`sagemaker_*`) carry no job settings; anything else would
    # be a setting smuggled past config.json, so it is refused.
    unknown = sorted(k for k in raw if k != "stage" and not k.startswith("sagemaker_"))
    if unknown:
        raise JobInputError("hyperparameters.json", None, unknown[0], "unknown key (only stage is read)")
    stage = raw.get("stage")
    if stage is None:
        return None
    if not isinstance(stage, str):
        raise JobInputError("hyperparameters.json", None, "stage", "must be a string")
    # SageMaker stores hyperparameter values as strings; some clients JSON-quote them again.
    return stage.strip().strip('"')


# The stage's config dataclass (config.STAGE_CONFIGS); a stage's `run` names its own.
C = TypeVar("C")


@dataclass
class Job(Generic[C]):
    """One job's directories and validated config; stages take `Job[<their config class>]`."""

    stage: str
    kind: str  # "training" | "processing"
    config: C
    input_root: Path
    processing_root: Path
    model_dir: Path
    output_data_dir: Path
    env: Mapping[str, str] = field(repr=False, default_factory=dict)
    _extracted: dict[str, Path] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, stage: str, env: Mapping[str, str] | None = None) -> Job[Any]:
        env = dict(os.environ if env is None else env)
        kind = "training" if stage in TRAINING_STAGES else "processing"
        job = cls(
            stage=stage,
            kind=kind,
            config=None,
            input_root=Path(env.get("SM_INPUT_DIR", "/opt/ml/input")),
            processing_root=Path(env.get("SM_PROCESSING_DIR", "/opt/ml/processing")),
            model_dir=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
            output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")),
            env=env,
        )
        config_dir = job.channel("config", optional=True)
        job.config = load_stage_config(stage, config_dir / "config.json" if config_dir else None)
        return job

    # ---- inputs -------------------------------------------------------------------------

    def channel(self, name: str, optional: bool = False) -> Path | None:
        """The folder of input channel `name`; None for a missing optional channel."""
        override = self.env.get(env_channel_var(name))
        if override:
            path = Path(override)
        elif self.kind == "training":
            path = self.input_root / "data" / name
        else:
            path = self.processing_root / "input" / name
        if path.is_dir():
            return path
        if optional:
            return None
        raise JobInputError(f"{name}/", None, None, "input channel missing")

    def has_channel(self, name: str) -> bool:
        return self.channel(name, optional=True) is not None

    def jsonl_path(self, name: str, optional: bool = False) -> Path | None:
        """The channel's one JSONL file: `<name>.jsonl` when present, else the only `*.jsonl`."""
        folder = self.channel(name, optional=optional)
        if folder is None:
            return None
        preferred = folder / f"{name}.jsonl"
        if preferred.is_file():
            return preferred
        found = sorted(p for p in folder.glob("*.jsonl") if p.is_file() and not p.name.startswith("."))
        if len(found) == 1:
            return found[0]
        if not found:
            if optional and not any(folder.iterdir()):
                return None
            raise JobInputError(f"{name}/", None, None, "no .jsonl file in the channel")
        raise JobInputError(f"{name}/", None, None, f"{len(found)} .jsonl files and none named {name}.jsonl")

    def model_path(self, name: str) -> Path:
        """The channel's Hugging Face (or adapter) folder, extracting model.tar.gz first if that is what it holds."""
        if name in self._extracted:
            return self._extracted[name]
        folder = self.channel(name)
        assert folder is not None
        archive = folder / "model.tar.gz"
        if not _looks_like_model(folder) and archive.is_file():
            target = Path(tempfile.mkdtemp(prefix=f"rewardds-{name}-"))
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(target, filter="data")
            except (tarfile.TarError, OSError):
                raise JobInputError(f"{name}/model.tar.gz", None, None, "not a readable gzip tar archive") from None
            folder = _single_model_dir(target)
        if not _looks_like_model(folder):
            raise JobInputError(f"{name}/", None, None, "not a model folder (no config.json or adapter_config.json)")
        self._extracted[name] = folder
        return folder

    # ---- outputs ------------------------------------------------------------------------

    @property
    def model_out(self) -> Path:
        if self.kind != "training":
            raise RuntimeError(f"stage {self.stage} is a processing job and has no model folder")
        self.model_dir.mkdir(parents=True, exist_ok=True)
        return self.model_dir

    def output(self, name: str) -> Path:
        if self.kind != "processing":
            raise RuntimeError(f"stage {self.stage} is a training job; write to model_out or output_data_dir")
        path = self.processing_root / "output" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_metrics(self, metrics: Mapping[str, Any]) -> list[Path]:
        if self.kind == "training":
            targets = [self.model_out / METRICS_FILE, self.output_data_dir / METRICS_FILE]
        else:
            main = STAGE_OUTPUTS.get(self.stage, (self.stage,))[0]
            targets = [self.output(main) / METRICS_FILE]
        for target in targets:
            write_json(target, dict(metrics))
        return targets


def _looks_like_model(folder: Path) -> bool:
    return any((folder / marker).is_file() for marker in MODEL_MARKERS)


def _single_model_dir(root: Path) -> Path:
    """An archive may wrap the model in one top folder; look one level down."""
    if _looks_like_model(root):
        return root
    subdirs = [p for p in root.iterdir() if p.is_dir()]
    if len(subdirs) == 1 and _looks_like_model(subdirs[0]):
        return subdirs[0]
    return root
