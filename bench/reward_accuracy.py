"""Reward proxy accuracy of one finished bench cell (docs/worlds.md): does the run's DP reward
proxy rank the true answer above the base model's on records it never trained on?

    .venv/bin/python bench/reward_accuracy.py --run <workdir>/runs/<run> --base <proxy base> --cache <out>/reference

Held-out pairs from the run's private TEST records: for each record (q, a), b = the proxy
base's greedy answer to q, generated as the build-pairs stage generates the rejected side of
its a ≻ b pairs (the run's own build-pairs settings, adapter off). A pair with b == a says
nothing about the ranking and is left out (counted). The run's reward adapter (its
train-reward job's model, `private/reward/<job>/output/model`) scores a and b through the
score stage's own function (`stages.score.reward_proxy_scores`, the run's score settings);
accuracy = (pairs where R(q, a) > R(q, b) + half the ties) / pairs.

With `--answer-pattern REGEX` it also measures `swappedAccuracy`: the same ranking on minimal
pairs, a against a itself with the fact the pattern's group 1 extracts replaced by another test
record's (the next record, in file order, whose fact differs). Only the fact differs within a
pair, so this asks whether R learnt the private facts, not how true answers read.

Privacy: it reads private test records and answers derived from them, so it belongs to the
private zone — in local mode the bench's own machine plays that zone (as it runs the private
jobs). The base answers are cached under --cache on that machine (they are the same for
every cell of one base and one test set); it prints ONE JSON line of aggregates only, never
a record, a prompt or an answer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))

from rewardds_jobs.config import parse_stage_config
from rewardds_jobs.records import read_records

Scorer = Callable[[Sequence[tuple[str, str]]], list[float]]


class NotMeasurable(Exception):
    """The run lacks what the figure needs; the message says what (no private content)."""


def job_records(run: Path, zone: str, stage: str) -> list[dict]:
    """The run's job records of one stage (`<zone>/jobs/*.json`), by job name (a retry sorts last)."""
    folder = run / zone / "jobs"
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    return sorted((r for r in records if r.get("stage") == stage), key=lambda r: r["jobName"])


def reward_adapter(run: Path) -> Path:
    """The model folder the run's last train-reward job wrote in the private zone."""
    for record in reversed(job_records(run, "private", "train-reward")):
        model = run / "private" / "reward" / record["jobName"] / "output" / "model"
        if (model / "adapter_config.json").is_file():
            return model
    raise NotMeasurable("the run has no trained reward proxy (no train-reward output)")


def stage_config(run: Path, zone: str, stage: str, round_: int | None = None):
    """The config the run gave its (last) job of `stage` (and round), parsed as that stage parses it."""
    jobs = [r for r in job_records(run, zone, stage) if round_ is None or r.get("round") == round_]
    raw: dict = {}
    if jobs:
        path = run / zone / "config" / jobs[-1]["jobName"] / "config.json"
        if path.is_file():
            raw = json.loads(path.read_text(encoding="utf-8"))
    return parse_stage_config(stage, raw)


def answers_key(base: Path, test: Path, settings: dict) -> str:
    """What the base answers depend on: the base folder's files, the test records, the generation settings."""
    h = hashlib.sha256()
    h.update(str(base.resolve()).encode())
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        stat = path.stat()
        h.update(f"{path.relative_to(base)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    h.update(hashlib.sha256(test.read_bytes()).digest())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:24]


def generation_options(build_pairs) -> dict:
    """How build-pairs generates its answers: greedy, with its token limits.

    Not its seed: greedy decoding does not depend on one, and leaving it out lets the cells of
    every grid seed share one set of base answers.
    """
    from rewardds_jobs.stages.build_pairs import input_budget

    return dict(
        greedy=True,
        max_new_tokens=build_pairs.max_new_tokens,
        seed=0,
        max_input_tokens=input_budget(build_pairs.max_length, build_pairs.max_new_tokens),
    )


def answers_cache_file(base: Path, test: Path, build_pairs, cache: Path) -> Path:
    return cache / f"base-answers-{answers_key(base, test, generation_options(build_pairs))}.json"


def base_answers(base: Path, test: Path, prompts: Sequence[str], build_pairs, cache: Path) -> tuple[list[str], bool]:
    """The base's greedy answers to `prompts` as build-pairs generates them; cached under `cache`."""
    path = answers_cache_file(base, test, build_pairs, cache)
    if path.is_file():
        answers = json.loads(path.read_text(encoding="utf-8"))
        if len(answers) == len(prompts):
            return answers, True
    from rewardds_jobs.generate import Generator, ModelSpec

    options = generation_options(build_pairs)
    with Generator(ModelSpec(base, name="base"), batch_size=build_pairs.batch_size) as model:
        answers = [a[0] for a in model.generate(list(prompts), use_adapter=False, **options)]
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(answers), encoding="utf-8")
    tmp.replace(path)  # whole or not at all: an interrupted writer never leaves half a file
    return answers, False


def held_out_pairs(records: Sequence[dict], answers: Sequence[str]) -> tuple[list[tuple[str, str, str]], int]:
    """(prompt, true answer, base answer) of each record whose base answer differs; and how many did not."""
    pairs, identical = [], 0
    for record, answer in zip(records, answers, strict=True):
        if answer == record["response"]:
            identical += 1
        else:
            pairs.append((record["prompt"], record["response"], answer))
    return pairs, identical


def swapped_pairs(records: Sequence[dict], pattern: re.Pattern) -> list[tuple[str, str, str]]:
    """(prompt, true answer, the true answer with another record's fact in place of its own)."""
    facts = [pattern.search(r["response"]) for r in records]
    pairs = []
    for i, (record, match) in enumerate(zip(records, facts, strict=True)):
        if match is None:
            continue
        for step in range(1, len(records)):
            other = facts[(i + step) % len(records)]
            if other is not None and other.group(1) != match.group(1):
                text = record["response"]
                pairs.append((record["prompt"], text, text[: match.start(1)] + other.group(1) + text[match.end(1) :]))
                break
    return pairs


def ranking_accuracy(pairs: Sequence[tuple[str, str, str]], score: Scorer) -> dict:
    """Share of pairs whose true answer the scorer ranks above the base answer, a tie counting half."""
    if not pairs:
        return {"accuracy": None, "pairs": 0, "ties": 0}
    # One call, so the scorer loads its model once: every true answer, then every base answer.
    scores = score([(q, a) for q, a, _ in pairs] + [(q, b) for q, _, b in pairs])
    true_scores, base_scores = scores[: len(pairs)], scores[len(pairs) :]
    wins = sum(1 for t, b in zip(true_scores, base_scores, strict=True) if t > b)
    ties = sum(1 for t, b in zip(true_scores, base_scores, strict=True) if t == b)
    return {"accuracy": round((wins + ties / 2) / len(pairs), 6), "pairs": len(pairs), "ties": ties}


def measure(run: Path, base: Path, cache: Path, answer_pattern: re.Pattern | None = None) -> dict:
    from rewardds_jobs.stages.score import reward_proxy_scores

    adapter = reward_adapter(run)
    test = run / "private" / "input" / "test.jsonl"
    if not test.is_file():
        raise NotMeasurable("the run has no private test records")
    records = read_records(test)
    build_pairs = stage_config(run, "private", "build-pairs")
    answers, cached = base_answers(base, test, [r["prompt"] for r in records], build_pairs, cache)
    pairs, identical = held_out_pairs(records, answers)
    score_cfg = stage_config(run, "synthesis", "score", round_=0)

    def score(batch):
        return reward_proxy_scores(
            base, adapter, batch, max_length=score_cfg.max_length, batch_size=score_cfg.batch_size
        )

    figures = ranking_accuracy(pairs, score)
    if answer_pattern is not None:
        swapped = ranking_accuracy(swapped_pairs(records, answer_pattern), score)
        figures |= {
            "swappedAccuracy": swapped["accuracy"],
            "swappedPairs": swapped["pairs"],
            "swappedTies": swapped["ties"],
        }
    return {**figures, "identicalLeftOut": identical, "testRecords": len(records), "baseAnswersCached": cached}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the run's local copy, <workdir>/runs/<run>")
    parser.add_argument("--base", type=Path, required=True, help="the proxy base folder the run used")
    parser.add_argument("--cache", type=Path, required=True, help="where the base answers are kept")
    parser.add_argument("--answer-pattern", help="the world's answerPattern: also rank minimal pairs (swappedAccuracy)")
    args = parser.parse_args()
    pattern = re.compile(args.answer_pattern) if args.answer_pattern else None
    try:
        figures = measure(args.run, args.base, args.cache, pattern)
    except NotMeasurable as reason:
        print(json.dumps({"accuracy": None, "reason": str(reason)}))
        return 0
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
