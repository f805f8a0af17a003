"""The job image's build check, on what it decides without a GPU or vLLM."""

from __future__ import annotations

import sys

from rewardds_jobs.image_check import compiled_extensions, cuda_mismatch, failed_imports


def test_torch_must_be_built_for_the_images_cuda():
    assert cuda_mismatch("13.0", "13.0.3") is None
    assert cuda_mismatch("12.8", "13.0.3") == "torch is built for CUDA 12.8, the image carries CUDA 13.0.3"
    assert cuda_mismatch(None, "13.0.3") == "torch is a CPU build (torch.version.cuda is None)"
    # An image that does not say its CUDA cannot be compared; the extension imports still check it.
    assert cuda_mismatch("13.0", None) is None


def test_finds_the_packages_compiled_extensions_and_reports_the_ones_that_do_not_load(tmp_path, monkeypatch):
    package = tmp_path / "fakepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_C.abi3.so").write_text("")  # found by name; never loaded here
    (package / "_moe_C.abi3.so").write_text("")
    (package / "ops.py").write_text("")
    assert compiled_extensions("fakepkg", package) == ["fakepkg._C", "fakepkg._moe_C"]
    (package / "good.py").write_text("VALUE = 1\n")
    (package / "bad.py").write_text("raise ImportError('undefined symbol: cuLaunchKernelEx')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert failed_imports(["fakepkg.good", "fakepkg.bad"]) == [
        "fakepkg.bad: ImportError: undefined symbol: cuLaunchKernelEx"
    ]
    sys.modules.pop("fakepkg", None)


def test_the_image_starts_from_cuda_13_without_a_torch_of_its_own_and_runs_the_check():
    """PyPI's torch 2.14.0 (pinned by vLLM 0.33.0) is a CUDA 13.0 build; a base image that ships
    its own torch for another CUDA keeps it, and vLLM's kernels then fail at engine start."""
    from pathlib import Path

    dockerfile = (Path(__file__).parents[1] / "Dockerfile").read_text()
    base = next(line.split("=", 1)[1] for line in dockerfile.splitlines() if line.startswith("ARG BASE_IMAGE="))
    assert base.startswith("nvidia/cuda:13.0."), base
    assert '"torch==2.14.0"' in dockerfile and '"vllm==0.33.0"' in dockerfile
    assert "python -m rewardds_jobs.image_check" in dockerfile
