"""The body timing a job notes for local mode: written when REWARDDS_TIMING_FILE names a
file (also when the body fails), around the stage's run only, and not at all otherwise."""

from __future__ import annotations

import json
import time
import types
from pathlib import Path

import pytest

from rewardds_jobs import __main__ as entry
from rewardds_jobs import contract


class _FakeJob:
    def write_metrics(self, metrics: dict) -> None:
        self.metrics = metrics


def _stage(monkeypatch, body):
    monkeypatch.setattr(contract.Job, "from_env", classmethod(lambda cls, stage: _FakeJob()))
    module = types.SimpleNamespace(run=body)
    monkeypatch.setattr(entry.importlib, "import_module", lambda name: module)


def test_notes_when_the_body_ran(tmp_path: Path, monkeypatch):
    timing = tmp_path / "timing.json"
    monkeypatch.setenv(entry.TIMING_FILE_ENV, str(timing))
    _stage(monkeypatch, lambda job: time.sleep(0.2) or {})
    before = time.time()
    entry.run_stage("score")
    after = time.time()
    noted = json.loads(timing.read_text())
    assert noted["stage"] == "score"
    assert before <= noted["bodyStart"] <= noted["bodyEnd"] <= after
    assert noted["bodyEnd"] - noted["bodyStart"] >= 0.2


def test_notes_a_failed_body_too_and_nothing_without_the_variable(tmp_path: Path, monkeypatch):
    timing = tmp_path / "timing.json"
    monkeypatch.setenv(entry.TIMING_FILE_ENV, str(timing))

    def boom(job):
        raise RuntimeError("stage failed")

    _stage(monkeypatch, boom)
    with pytest.raises(RuntimeError):
        entry.run_stage("score")
    assert json.loads(timing.read_text())["stage"] == "score"

    timing.unlink()
    monkeypatch.delenv(entry.TIMING_FILE_ENV)
    _stage(monkeypatch, lambda job: {})
    entry.run_stage("score")
    assert not timing.exists()
