"""How a job says it failed: one line in SageMaker's failure file, naming file, line and field.

The message never quotes a record's text, so a failure reason shown in the console or in
a log can never leak a private record.
"""
from __future__ import annotations

import os
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


def one_line(message: str) -> str:
    flat = " ".join(message.split())
    return flat[:MAX_FAILURE_CHARS]


def write_failure(message: str) -> Path:
    """Writes the failure file SageMaker reads as FailureReason; returns its path."""
    path = failure_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(one_line(message) + "\n", encoding="utf-8")
    return path


def describe_unexpected(error: BaseException) -> str:
    """A one-line reason for an error that is not a JobInputError.

    Library exceptions can embed input text (a tokenizer error quoting a string, a JSON
    error quoting a line), so only the exception type and a message that carries no
    record content are kept: the first line, cut short.
    """
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__
