"""Metrics of the evaluation: ROUGE-L F, corpus BLEU, exact match, answer accuracy. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence


def normalize(text: str) -> str:
    """Whitespace- and case-folded text: exact match should not hinge on spacing or capitals."""
    return " ".join(text.split()).casefold()


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    _same_length(predictions, references)
    hits = sum(1 for p, r in zip(predictions, references, strict=True) if normalize(p) == normalize(r))
    return hits / len(references) if references else 0.0


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F-measure (rouge-score, Porter stemming), in [0, 1]."""
    from rouge_score import rouge_scorer

    _same_length(predictions, references)
    if not references:
        return 0.0
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return sum(scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references, strict=True)) / len(
        references
    )


def bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu, its default 13a tokenisation), in [0, 100]."""
    import sacrebleu

    _same_length(predictions, references)
    if not references:
        return 0.0
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)


def compile_answer_pattern(pattern: str) -> re.Pattern[str]:
    """The run config's `answerPattern`: a regular expression with exactly one capturing group."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"not a valid regular expression ({error.msg})") from None
    if compiled.groups != 1:
        raise ValueError(f"must have exactly one capturing group, has {compiled.groups}")
    return compiled


def extract_answer(pattern: re.Pattern[str], text: str) -> str | None:
    """The first match's group, whitespace- and case-folded like exact match; None without a match."""
    match = pattern.search(text)
    return None if match is None or match.group(1) is None else normalize(match.group(1))


def answer_accuracy(pattern: re.Pattern[str], predictions: Sequence[str], references: Sequence[str]) -> dict:
    """Share of predictions whose extracted answer equals the reference's.

    A prediction with no match is wrong. A reference with no match has no checkable
    answer, so its pair is left out of the denominator; `answerN` says how many pairs
    counted, and `answerAccuracy` is absent (not 0) when none did.
    """
    _same_length(predictions, references)
    counted = hits = 0
    for prediction, reference in zip(predictions, references, strict=True):
        expected = extract_answer(pattern, reference)
        if expected is None:
            continue
        counted += 1
        hits += extract_answer(pattern, prediction) == expected
    if not counted:
        return {"answerN": 0}
    return {"answerAccuracy": round(hits / counted, 6), "answerN": counted}


METRICS = {"rougeL": rouge_l, "bleu": bleu, "exactMatch": exact_match}


def score_all(names: Sequence[str], predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    return {name: round(METRICS[name](predictions, references), 6) for name in names}


def _same_length(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
