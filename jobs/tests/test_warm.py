"""The warm job process with torch really preloaded: forked jobs run threaded torch ops
without hanging, take their thread count from their own environment, and get their own
torch seed as a fresh interpreter does. (Isolation, stop, failure file and fallback are
tested through the local backend in test/local/sagemaker.test.ts.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewardds_jobs import warm
from rewardds_jobs.env_defaults import ENV_DEFAULTS

WARM_PY = Path(warm.__file__)

TORCH_JOB = """
import json, sys, torch
a = torch.randn(256, 256)
for _ in range(20):
    a = torch.tanh(a @ a)  # intra-op threads at work
out = {"threads": torch.get_num_threads(), "seed": torch.initial_seed(), "finite": bool(a.isfinite().all())}
print(json.dumps(out))
"""


def test_the_server_imports_under_the_environment_the_jobs_set_before_their_imports():
    assert warm.IMPORT_ENV == ENV_DEFAULTS


@pytest.mark.slow
def test_forked_jobs_run_threaded_torch_with_their_own_thread_count_and_torch_seed(tmp_path: Path):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(WARM_PY.parents[1])}
    server = subprocess.Popen(
        [sys.executable, "-P", str(WARM_PY), "--preload", "torch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        ready = json.loads(server.stdout.readline())
        assert ready["ready"] is True and ready["preloaded"] == ["torch"]
        ends = {}
        for job_id, threads in ((1, "2"), (2, "1")):
            request = {
                "id": job_id,
                "argv": ["-c", TORCH_JOB],
                "env": {**env, "OMP_NUM_THREADS": threads},
                "cwd": str(tmp_path),
                "log": str(tmp_path / f"job-{job_id}.log"),
            }
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            # One job at a time: the second is forked after the first ran threaded ops.
            while job_id not in ends:
                message = json.loads(server.stdout.readline())
                if "code" in message:
                    ends[message["id"]] = message
        assert ends == {1: {"id": 1, "code": 0, "signal": None}, 2: {"id": 2, "code": 0, "signal": None}}
    finally:
        server.stdin.close()
        server.wait(timeout=60)

    first, second = (json.loads((tmp_path / f"job-{i}.log").read_text().strip().splitlines()[-1]) for i in (1, 2))
    assert (first["threads"], second["threads"]) == (2, 1)
    assert first["finite"] and second["finite"]
    # A fresh interpreter seeds torch from the OS (checked here), so two forks must not share a seed.
    fresh = [
        subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.initial_seed())"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        for _ in range(2)
    ]
    assert fresh[0] != fresh[1]
    assert first["seed"] != second["seed"]
