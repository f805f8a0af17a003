#!/usr/bin/env bash
# mutmut on one module of the jobs package, against that module's own unit tests only
# (bench/mutation/README.md). Usage: bench/mutation/mutmut-module.sh <module> [max children]
#
# Each module runs in a scratch copy of jobs/ whose mutmut settings name one source file and
# one test file: with the whole jobs suite selected, every mutant of dp.py would rerun the stage
# tests that train real models. The copy lives outside the repository (pytest collects bench/),
# and only `mutmut results` comes back, as bench/mutation/out/mutmut-results-<module>.txt.
set -euo pipefail

module=${1:?usage: mutmut-module.sh <dp|losses|train_generator|train_reward|train_target|build_pairs> [max children]}
children=${2:-1}
case $module in
  dp | losses) source=rewardds_jobs/$module.py ;;
  train_generator | train_reward | train_target | build_pairs) source=rewardds_jobs/stages/$module.py ;;
  *)
    echo "mutmut-module.sh: unknown module '$module' (dp, losses, train_generator, train_reward, train_target, build_pairs)" >&2
    exit 2
    ;;
esac

repo=$(cd "$(dirname "$0")/../.." && pwd)
mutmut=$repo/.venv/bin/mutmut
out=$repo/bench/mutation/out
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rewardds-mutmut-$module.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

cp -r "$repo/jobs/rewardds_jobs" "$repo/jobs/tests" "$repo/jobs/pytest.ini" "$scratch/"
cat > "$scratch/setup.cfg" <<EOF
[mutmut]
source_paths = rewardds_jobs
only_mutate =
    $source
also_copy =
    pytest.ini
pytest_add_cli_args_test_selection =
    tests/test_$module.py
# torch is not fork-safe once a test has run: fork each mutant from a clean server instead.
process_isolation = forkserver
# A loaded machine is slow, not hung.
timeout_multiplier = 30.0
EOF

mkdir -p "$out"
cd "$scratch"
# Local jobs keep to one thread (local/sagemaker/supervisor.ts); so do the mutants, one a core.
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$mutmut" run --max-children "$children"
"$mutmut" results --all true > "$out/mutmut-results-$module.txt"
echo "mutmut-module.sh: $module done; results in $out/mutmut-results-$module.txt"
