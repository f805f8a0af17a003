"""bench/gpu_check.py on CPU: it refuses to start without CUDA, and its stage chain (layouts,
config keys, the pool and working set it builds) runs end to end with tiny shapes, so the
GPU run is not the first time the chain is tried."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from conftest import python_subprocess_run

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.py"


def load():
    spec = importlib.util.spec_from_file_location("gpu_check", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_refuses_to_start_without_cuda_and_says_why():
    gpu_check = load()
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: False),
        version=types.SimpleNamespace(cuda=None),
        __version__="x",
    )
    with pytest.raises(SystemExit, match="no CUDA device"):
        gpu_check.require_cuda(fake)


def test_shapes_are_the_published_qwen_configs():
    shapes = load().SHAPES
    assert shapes["qwen2.5-0.5b"]["hidden_size"] == 896 and shapes["qwen2.5-0.5b"]["num_hidden_layers"] == 24
    assert shapes["qwen2.5-7b"]["intermediate_size"] == 18944 and shapes["qwen2.5-7b"]["num_key_value_heads"] == 4


def test_every_stage_runs_in_the_chain_on_cpu_with_tiny_shapes(tmp_path, monkeypatch):
    gpu_check = load()
    # Each stage still runs as its own `python -m rewardds_jobs <stage>` process, forked from
    # the session's warm job process instead of importing torch afresh (nvidia-smi is not Python).
    monkeypatch.setattr(gpu_check, "subprocess", types.SimpleNamespace(run=python_subprocess_run))
    monkeypatch.setenv("REWARDDS_GENERATION", "transformers")
    results = gpu_check.run_all(tmp_path, "tiny", quick=True, proxy_shape="tiny", device="cpu")
    table = gpu_check.table(results, "cpu", "tiny")
    assert [r.stage for r in results] == [
        "train-generator", "build-pairs", "train-reward", "synthesize-queries", "sample-candidates",
        "score", "train-target", "refine", "evaluate",
    ]  # fmt: skip
    assert all(r.ok for r in results), table
    assert results[0].dp_ratio is not None and results[0].dp_ratio > 0
    assert "| train-generator | ok |" in table
