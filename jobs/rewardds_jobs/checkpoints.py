"""Spot checkpoints: one state file a training, written whole, read back only by the same training.

SageMaker creates its checkpoint folder (CheckpointConfig.LocalPath) only for jobs that
have one, syncs it to S3 while the job runs and restores it when a spot job restarts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def spot_checkpoint_dir(env: os._Environ | dict = os.environ) -> Path | None:
    """The checkpoint folder when the job has one; SM_CHECKPOINT_DIR overrides the path."""
    path = Path(env.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints"))
    return path if path.is_dir() else None


def save_state(directory: Path, name: str, fingerprint: dict, state: dict[str, Any]) -> None:
    """Writes under a temporary name, then renames: a restart never reads half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.tmp-{os.getpid()}"
    torch.save({"fingerprint": fingerprint, **state}, tmp)
    os.replace(tmp, directory / name)


def load_state(directory: Path, name: str, fingerprint: dict) -> dict[str, Any] | None:
    """The saved state of this training, or None; a state of another training is refused."""
    path = directory / name
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"checkpoint {path} belongs to another training ({state['fingerprint']}, this one is {fingerprint})"
        )
    return state


def restore_parameters(params: list[torch.nn.Parameter], saved: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for param, value in zip(params, saved, strict=True):
            param.copy_(value.to(param.device))
