"""How a job says it failed: one line in SageMaker's failure file, naming file, line and field.

The message never quotes a record's text, so a failure reason shown in the console or in
a log can never leak a private record.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

DEFAULT_OUTPUT_DIR = "/opt/ml/output"
# SageMaker truncates FailureReason at 1024 characters; keep ours well inside it.
MAX_FAILURE_CHARS = 1000


class JobInputError(Exception):
    """Bad input: a missing file, a malformed line, an unknown config key, a folder that is not a model."""

    def __init__(self, file: str, line: int | None, field: str | None, reason: str):
        self.file = str(file)
        self.line = line
        self.field = field
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        # docs/job-contract.md: `<file>:<line>: <field>: <what is wrong>`, absent parts left out.
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field is not None:
            where += f": {self.field}"
        return f"{where}: {self.reason}"


def failure_path() -> Path:
    return Path(os.environ.get("SM_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)) / "failure"


def exit_message_path() -> Path:
    """Where a processing container leaves its ExitMessage (training jobs read `failure` instead)."""
    return failure_path().with_name("message")


def one_line(message: str) -> str:
    flat = " ".join(message.split())
    return flat[:MAX_FAILURE_CHARS]


def write_failure(message: str, *, processing: bool = True) -> list[Path]:
    """Writes the one-line reason where SageMaker reads it; returns the paths written.

    A training job reads `failure` (FailureReason); a processing job reads `message`
    (ExitMessage). `failure` is always written (local mode reads it); a job whose kind is
    not known, because it failed before naming its stage, writes both.
    """
    text = one_line(message) + "\n"
    paths = [failure_path(), exit_message_path()] if processing else [failure_path()]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return paths


# Library errors whose messages describe the machine, never the data (OOM, a missing file).
_SAFE_MESSAGE_TYPES = ("OutOfMemoryError", "MemoryError", "FileNotFoundError", "PermissionError", "IsADirectoryError")
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def describe_unexpected(error: BaseException) -> str:
    """A one-line reason for an error that is not a JobInputError, free of record text.

    Messages written by this package never quote records, so they are kept. A library's
    message can quote its input (a tokenizer echoing a string, a parser echoing a line),
    so for those only the type and where it was raised are kept, unless the type is one
    that only ever describes the machine.
    """
    kind = type(error).__name__
    message = str(error).splitlines()[0][:300] if str(error) else ""
    frames = traceback.extract_tb(error.__traceback__)
    raised_here = bool(frames) and frames[-1].filename.startswith(_PACKAGE_DIR)
    if message and (raised_here or kind in _SAFE_MESSAGE_TYPES):
        return f"{kind}: {message}"
    if frames:
        last = frames[-1]
        return f"{kind} raised in {Path(last.filename).name}:{last.lineno} ({last.name}); message withheld"
    return kind
