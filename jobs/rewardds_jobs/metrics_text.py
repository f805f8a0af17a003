"""Text-overlap metrics of the evaluation: ROUGE-L F, corpus BLEU, exact match. Pure functions."""

from __future__ import annotations

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


METRICS = {"rougeL": rouge_l, "bleu": bleu, "exactMatch": exact_match}


def score_all(names: Sequence[str], predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    return {name: round(METRICS[name](predictions, references), 6) for name in names}


def _same_length(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
