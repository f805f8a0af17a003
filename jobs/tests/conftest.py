"""Shared fixtures: tiny models built offline, real LoRA adapters, SageMaker-layout folders.

Everything a test needs is made here or by the test itself; nothing is downloaded and
no dataset outside the repository is read.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

JOBS_DIR = Path(__file__).resolve().parents[1]
TRAINING_STAGES = {"train-generator", "train-reward", "train-target"}


# ---- tiny models -------------------------------------------------------------------------


def make_tiny(out: Path, *extra: str) -> Path:
    """Runs the real CLI tool, as local mode does."""
    done = run_python(["-m", "rewardds_jobs", "make-tiny-model", "--out", str(out), *extra], job_env({}))
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """The small proxy base (Qwen2 architecture), causal LM."""
    return make_tiny(tmp_path_factory.mktemp("models") / "base", "--seed", "0")


@pytest.fixture(scope="session")
def tiny_target_base(tmp_path_factory) -> Path:
    """The target base: another architecture and seed, so stages cannot mix the two up unnoticed."""
    return make_tiny(tmp_path_factory.mktemp("models") / "target_base", "--arch", "llama", "--seed", "1")


def save_lora_adapter(base: Path, out: Path, *, kind: str = "causal", seed: int = 0, r: int = 4) -> Path:
    """A real PEFT LoRA adapter folder of the format the training stages write.

    `init_lora_weights=False` gives LoRA's B a random start, so the adapter changes the
    model's outputs (an all-zero B would make the adapter invisible to the tests).
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    from rewardds_jobs.models import load_tokenizer, lora_target_modules

    torch.manual_seed(seed)
    tokenizer = load_tokenizer(base)
    if kind == "reward":
        model = AutoModelForSequenceClassification.from_pretrained(
            str(base), num_labels=1, pad_token_id=tokenizer.pad_token_id
        )
        task = "SEQ_CLS"
    else:
        model = AutoModelForCausalLM.from_pretrained(str(base))
        task = "CAUSAL_LM"
    config = LoraConfig(
        r=r,
        lora_alpha=2 * r,
        lora_dropout=0.0,
        target_modules=lora_target_modules(model),
        task_type=task,
        init_lora_weights=False,
    )
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def generator_adapter(tiny_base, tmp_path_factory) -> Path:
    return save_lora_adapter(tiny_base, tmp_path_factory.mktemp("adapters") / "generator", seed=1)


@pytest.fixture(scope="session")
def reward_adapter(tiny_base, tmp_path_factory) -> Path:
    return save_lora_adapter(tiny_base, tmp_path_factory.mktemp("adapters") / "reward", kind="reward", seed=2)


@pytest.fixture(scope="session")
def target_adapter(tiny_target_base, tmp_path_factory) -> Path:
    return save_lora_adapter(tiny_target_base, tmp_path_factory.mktemp("adapters") / "target", seed=3)


# ---- a small dataset written by the tests themselves --------------------------------------


def fixture_records(n: int = 4, prefix: str = "r") -> list[dict]:
    topics = ["fever", "a sprained ankle", "a mortgage rate", "an index fund", "a cough", "a tax return"]
    return [
        {
            "id": f"{prefix}-{i}",
            "prompt": f"What should I know about {topics[i % len(topics)]}? (case {i})",
            "response": f"Here is what to know about {topics[i % len(topics)]}: see a professional, case {i}.",
        }
        for i in range(n)
    ]


@pytest.fixture
def records() -> list[dict]:
    return fixture_records()


# ---- SageMaker layout ---------------------------------------------------------------------


def job_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(
        {
            "PYTHONPATH": str(JOBS_DIR),
            "REWARDDS_DEVICE": "cpu",
            "REWARDDS_GENERATION": "transformers",
            "HF_HUB_OFFLINE": "1",
            # The test machines share two cores between several suites.
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
    )
    env.update(overrides)
    return env


@dataclass
class Layout:
    root: Path
    stage: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def training(self) -> bool:
        return self.stage in TRAINING_STAGES

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def exit_message(self) -> Path:
        return self.root / "output" / "message"

    def input(self, channel: str) -> Path:
        return (
            (self.root / "input" / "data" / channel)
            if self.training
            else (self.root / "processing" / "input" / channel)
        )

    def output(self, name: str) -> Path:
        return self.root / "processing" / "output" / name

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    def read_jsonl(self, name: str, file: str | None = None) -> list[dict]:
        path = self.output(name) / (file or f"{name}.jsonl")
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def metrics(self, name: str | None = None) -> dict:
        folder = self.model_dir if self.training else self.output(name)
        return json.loads((folder / "metrics.json").read_text())


def sagemaker_layout(
    tmp_path: Path, stage: str, inputs: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> Layout:
    """Lays out a job folder as SageMaker would and returns where everything is.

    `inputs` maps a channel to a Path (a model folder: linked in), a list of dicts (written
    as `<channel>.jsonl`) or a str (written verbatim as `<channel>.jsonl`, for bad input).
    `config` becomes the `config` channel's config.json; None leaves the channel out.
    """
    root = tmp_path / "opt-ml"
    layout = Layout(root=root, stage=stage)
    for channel, value in inputs.items():
        folder = layout.input(channel)
        if isinstance(value, Path):
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.symlink_to(value, target_is_directory=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        text = value if isinstance(value, str) else "".join(json.dumps(r) + "\n" for r in value)
        (folder / f"{channel}.jsonl").write_text(text, encoding="utf-8")
    if config is not None:
        folder = layout.input("config")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    layout.env = {
        "SM_INPUT_DIR": str(root / "input"),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_PROCESSING_DIR": str(root / "processing"),
    }
    return layout


class WarmJobs:
    """One warm job process (rewardds_jobs/warm.py, as local mode runs it) for the session.

    Each job is still its own process, forked from a server that has imported torch,
    transformers, peft and opacus once, with exactly the job's environment, working
    directory, streams and exit status (test_warm.py and test/local/sagemaker.test.ts check
    the isolation); what it saves is each stage's seconds of imports.
    """

    PRELOAD = "torch,transformers,peft,opacus"

    def __init__(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-P", str(JOBS_DIR / "rewardds_jobs" / "warm.py"), "--preload", self.PRELOAD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=job_env({}),
            text=True,
        )
        # A reader thread, so that a job's timeout can wait on the replies without blocking.
        self.replies: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = bool(self._next_reply(None).get("ready"))
        self.next_id = 1

    def _read(self) -> None:
        for line in self.server.stdout:
            self.replies.put(json.loads(line))
        self.replies.put({"ready": False, "ended": True})

    def _next_reply(self, timeout: float | None) -> dict:
        return self.replies.get(timeout=timeout)

    def run(
        self, argv: list[str], env: dict[str, str], timeout: float, cwd: Path = JOBS_DIR
    ) -> subprocess.CompletedProcess:
        job_id, self.next_id = self.next_id, self.next_id + 1
        with tempfile.TemporaryDirectory(prefix="rewardds-job-") as streams:
            out, err = Path(streams, "stdout"), Path(streams, "stderr")
            request = {"id": job_id, "argv": argv, "env": env, "cwd": str(cwd), "log": str(err)}
            self.server.stdin.write(json.dumps({**request, "stdout": str(out), "stderr": str(err)}) + "\n")
            self.server.stdin.flush()
            deadline = time.monotonic() + timeout
            pid, end = None, None
            while end is None:
                try:
                    message = self._next_reply(max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    if pid is not None:
                        with contextlib.suppress(OSError):
                            os.killpg(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(argv, timeout) from None
                if message.get("ended"):
                    raise RuntimeError("the warm job process ended during a job")
                if message.get("id") != job_id:
                    continue
                pid = message.get("pid", pid)
                if "code" in message:
                    end = message
            code = end["code"] if end["signal"] is None else -signal.Signals[end["signal"]].value
            read = lambda path: path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""  # noqa: E731
            return subprocess.CompletedProcess([sys.executable, *argv], code, read(out), read(err))

    def close(self) -> None:
        self.server.stdin.close()
        self.server.wait(timeout=60)


_warm: WarmJobs | None = None


def warm_jobs() -> WarmJobs | None:
    """The session's warm job process, started on first use; None when REWARDDS_TEST_COLD=1 or it
    could not start (then every job is a plain subprocess)."""
    global _warm
    if os.environ.get("REWARDDS_TEST_COLD") == "1":
        return None
    if _warm is None:
        _warm = WarmJobs()
        atexit.register(_warm.close)
    return _warm if _warm.ready else None


def run_python(argv: list[str], env: Mapping[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`python <argv>` in jobs/ with exactly `env`, output captured: a fork of the session's warm
    job process, or a plain subprocess (REWARDDS_TEST_COLD=1, or no warm process)."""
    warm = warm_jobs()
    if warm is not None:
        return warm.run(argv, dict(env), timeout)
    return subprocess.run(
        [sys.executable, *argv], cwd=JOBS_DIR, env=dict(env), capture_output=True, text=True, timeout=timeout
    )


def python_subprocess_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """`subprocess.run` for code that starts `sys.executable` with its text output captured (the
    bench scripts): those runs become forks of the warm job process; anything else runs as asked."""
    warm = warm_jobs()
    forkable = kwargs.get("capture_output") and kwargs.get("text") and not kwargs.get("check")
    if warm is None or not forkable or set(kwargs) - {"capture_output", "text", "check", "cwd", "env", "timeout"}:
        return subprocess.run(args, **kwargs)
    if list(args[:1]) != [sys.executable]:
        return subprocess.run(args, **kwargs)
    env = dict(os.environ if kwargs.get("env") is None else kwargs["env"])
    return warm.run(list(args[1:]), env, kwargs.get("timeout") or 3600, Path(kwargs.get("cwd") or os.getcwd()))


def run_job(layout: Layout, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m rewardds_jobs <stage>` on the layout, as the container runs it."""
    return run_python(["-m", "rewardds_jobs", *(list(args) if args else [layout.stage])], job_env(layout.env), timeout)


@pytest.fixture(name="sagemaker_layout")
def sagemaker_layout_fixture():
    return sagemaker_layout


@pytest.fixture(name="run_job")
def run_job_fixture():
    return run_job


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `slow` every test that runs a stage in a subprocess: it asks for the run_job
    fixture or its module calls run_job itself. `make test-fast` leaves them out."""
    for item in items:
        module = getattr(item, "module", None)
        if "run_job" in getattr(item, "fixturenames", ()) or getattr(module, "run_job", None) is run_job:
            item.add_marker(pytest.mark.slow)
