"""Mutation scores of `make mutation`, from Stryker's JSON reports and mutmut's results.

Reads bench/mutation/out/stryker-<module>.json (one per TypeScript module; a
stryker-<module>.<part>.json from a partial rerun overrides the files it holds) and
bench/mutation/out/mutmut-results-<module>.txt (`mutmut results --all true`, from
bench/mutation/mutmut-module.sh), and writes bench/mutation/summary.json
({module: {killed, survived, timeout, noCoverage, score}}) and bench/mutation/report.md (the same
table, then every surviving mutant with its place).

score = (killed + timeout) / (killed + timeout + survived + noCoverage), Stryker's definition;
mutants Stryker ignored (static ones, see stryker.config.mjs) or could not compile count in none.

A narrow run (MUTATION_MODULES=..., MUTMUT_MODULES=...) measures only some modules: the others
keep their entries, and their rows of surviving mutants, from the summary and report already
here, so the committed files always cover every module last measured.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

# Stryker's statuses, and mutmut's, mapped onto the summary's four counts.
STRYKER = {
    "Killed": "killed",
    "Timeout": "timeout",
    "Survived": "survived",
    "NoCoverage": "noCoverage",
}
MUTMUT = {
    "killed": "killed",
    "timeout": "timeout",
    "survived": "survived",
    "no tests": "noCoverage",
}
# rewardds_jobs.dp.x_sample_rate__mutmut_1, rewardds_jobs.dp.xǁDPTrainerǁstep__mutmut_4
MUTMUT_NAME = re.compile(r"^(?P<module>[\w.]+?)\.x[_ǁ](?P<function>.+)__mutmut_\d+$")


def empty() -> dict:
    return {"killed": 0, "survived": 0, "timeout": 0, "noCoverage": 0}


def with_score(counts: dict) -> dict:
    detected = counts["killed"] + counts["timeout"]
    valid = detected + counts["survived"] + counts["noCoverage"]
    return {**counts, "score": round(100 * detected / valid, 2) if valid else None}


def mutant_key(mutant: dict) -> tuple:
    start, end = mutant["location"]["start"], mutant["location"]["end"]
    return (
        start["line"],
        start["column"],
        end["line"],
        end["column"],
        mutant["mutatorName"],
        mutant.get("replacement"),
    )


def stryker_reports() -> dict[str, dict[str, list]]:
    """Each module's mutants per file. Part reports (`stryker-<module>.<part>.json`, from reruns
    with `--mutate <file or line range>`) are laid over the module's report mutant by mutant
    (same place, mutator and replacement), so slices of one file add up."""
    mutants: dict[str, dict[str, dict]] = {}
    for report in sorted(OUT.glob("stryker-*.json"), key=lambda p: (p.stem.count("."), p.name)):
        if report.name.startswith("stryker-incremental-"):
            continue
        module = report.stem.removeprefix("stryker-").split(".")[0]
        for file, data in json.loads(report.read_text())["files"].items():
            by_key = mutants.setdefault(module, {}).setdefault(file, {})
            for mutant in data["mutants"]:
                by_key[mutant_key(mutant)] = mutant
    return {module: {file: list(m.values()) for file, m in files.items()} for module, files in mutants.items()}


def stryker_modules() -> tuple[dict, list[str]]:
    summary: dict = {}
    survivors: list[str] = []
    for module, files in stryker_reports().items():
        counts = empty()
        for file, file_mutants in sorted(files.items()):
            for mutant in file_mutants:
                key = STRYKER.get(mutant["status"])
                if key is None:
                    continue
                counts[key] += 1
                if key in ("survived", "noCoverage"):
                    start = mutant["location"]["start"]
                    replacement = mutant.get("replacement", "").replace("\n", " ")[:80]
                    survivors.append(
                        f"| {module} | `{file}:{start['line']}:{start['column']}` | {mutant['mutatorName']} "
                        f"| `{replacement}` | {mutant['status']} |"
                    )
        summary[module] = with_score(counts)
    return summary, survivors


def mutmut_lines() -> list[str]:
    """Every line of the mutmut-results*.txt files (mutmut-module.sh writes one per module)."""
    return [line for path in sorted(OUT.glob("mutmut-results*.txt")) for line in path.read_text().splitlines()]


def mutmut_modules() -> tuple[dict, list[str]]:
    summary: dict = {}
    survivors: list[str] = []
    for line in mutmut_lines():
        name, sep, status = line.strip().rpartition(": ")
        match = MUTMUT_NAME.match(name) if sep else None
        if not match:
            continue
        module = "jobs/" + match["module"].removeprefix("rewardds_jobs.").replace(".", "/") + ".py"
        key = MUTMUT.get(status)
        if key is None:
            continue
        counts = summary.setdefault(module, empty())
        counts[key] += 1
        if key in ("survived", "noCoverage"):
            survivors.append(f"| {module} | `{name}` | | | {status} |")
    return {module: with_score(counts) for module, counts in sorted(summary.items())}, survivors


SURVIVOR_ROW = re.compile(r"^\| (?P<module>[^|]+?) \| `")


def previous(measured: set[str]) -> tuple[dict, list[str]]:
    """The committed summary's entries and report rows of the modules this run did not measure."""
    summary_file, report_file = HERE / "summary.json", HERE / "report.md"
    old = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    kept = {module: counts for module, counts in old.items() if module not in measured}
    rows = []
    if report_file.exists():
        for line in report_file.read_text().splitlines():
            match = SURVIVOR_ROW.match(line)
            if match and match["module"] in kept:
                rows.append(line)
    return kept, rows


def main() -> int:
    ts, ts_survivors = stryker_modules()
    py, py_survivors = mutmut_modules()
    if not ts and not py:
        print("no mutation results under bench/mutation/out/", file=sys.stderr)
        return 1
    kept, kept_survivors = previous(set(ts) | set(py))
    summary = {**kept, **ts, **py}
    (HERE / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Mutation testing report",
        "",
        "Written by `make mutation` (bench/mutation/summarize.py); how to read it and the equivalent",
        "mutants: bench/mutation/README.md.",
        "",
        "| module | killed | timeout | survived | no coverage | score % |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module, c in summary.items():
        lines.append(
            f"| {module} | {c['killed']} | {c['timeout']} | {c['survived']} | {c['noCoverage']} | {c['score']} |"
        )
    lines += [
        "",
        "## Surviving mutants",
        "",
        "| module | where | mutator | replacement | status |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += kept_survivors + ts_survivors + py_survivors
    (HERE / "report.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
