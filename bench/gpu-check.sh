#!/usr/bin/env bash
# GPU check: every stage once on the GPU with shape-true, random-weight models; prints one
# summary table (bench/gpu_check.py says what is measured). At most 8 minutes.
# Usage: bench/gpu-check.sh [--target 1.5b|7b] [--quick] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${REWARDDS_PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi missing or failing); this check needs one." >&2
  exit 2
fi
exec timeout --signal=INT --kill-after=20 480 "$python" bench/gpu_check.py "$@"
