"""The job image's build check: `python -m rewardds_jobs.image_check` (jobs/Dockerfile).

`import vllm` succeeds even when vLLM's compiled kernels cannot load (a wheel built for
another CUDA than the torch beside it), and then the first generation job fails at engine
start. The build fails here instead: torch must be built for the image's CUDA, and every
compiled extension module of the vLLM package must load.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path


def cuda_mismatch(torch_cuda: str | None, image_cuda: str | None) -> str | None:
    """Why torch's CUDA does not fit the image's (major.minor), or None when it does."""
    if not torch_cuda:
        return "torch is a CPU build (torch.version.cuda is None)"
    if not image_cuda:
        return None
    ours = tuple(torch_cuda.split(".")[:2])
    image = tuple(image_cuda.split(".")[:2])
    if ours != image:
        return f"torch is built for CUDA {torch_cuda}, the image carries CUDA {image_cuda}"
    return None


def compiled_extensions(package: str, folder: Path, suffixes: Iterable[str] = (".so",)) -> list[str]:
    """Module names of the package's top-level compiled extensions (`_C.abi3.so` → `vllm._C`)."""
    names = {
        f"{package}.{path.name.split('.')[0]}"
        for path in folder.iterdir()
        if path.is_file() and any(path.name.endswith(suffix) for suffix in suffixes)
    }
    return sorted(names)


def failed_imports(modules: Iterable[str]) -> list[str]:
    """`module: error` for every module that does not import."""
    failures = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # an extension that fails to load may raise anything
            failures.append(f"{name}: {type(error).__name__}: {error}")
    return failures


def main() -> int:
    import torch

    problems = []
    mismatch = cuda_mismatch(torch.version.cuda, os.environ.get("CUDA_VERSION"))
    if mismatch:
        problems.append(mismatch)
    import vllm

    modules = compiled_extensions("vllm", Path(vllm.__file__).parent)
    if not modules:
        problems.append("the vllm package has no compiled extension module")
    problems += failed_imports(modules)
    for problem in problems:
        print(f"image check: {problem}", file=sys.stderr)
    if not problems:
        print(f"image check: torch {torch.__version__} (CUDA {torch.version.cuda}), vllm {vllm.__version__}: {modules}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
