"""The canary audit's arithmetic (docs/privacy.md, "Empirical audit with canaries"): pure, no model.

A canary is a training record whose response carries a random 10-digit secret. After
training, each secret is ranked by the model's likelihood among random candidate codes of
the same template (Carlini et al. 2019, "The Secret Sharer"). The candidate space holds
10^10 codes, too many to score, so the rank is estimated from a uniform sample of S
candidates: a secret ranked r-th among the S + 1 (the sample and itself) is estimated to sit
at fraction r / (S + 1) of the whole space, and its exposure is

    exposure = log2 |space| − log2 rank ≈ log2(S + 1) − log2 r   (bits).

So the estimate lies in [0, log2(S + 1)]: 13.3 bits at S = 10,000, the most the sample can
show (a secret ranked first). A secret the model never saw has a uniform rank, hence the
chance exposure E[log2(S + 1) − log2 r] ≈ 1/ln 2 ≈ 1.44 bits.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

SECRET_DIGITS = 10


def random_codes(count: int, rng: random.Random, exclude: Iterable[str] = ()) -> list[str]:
    """`count` distinct uniform 10-digit codes (leading zeros kept), none of them in `exclude`."""
    banned = set(exclude)
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        code = f"{rng.randrange(10**SECRET_DIGITS):0{SECRET_DIGITS}d}"
        if code in banned or code in seen:
            continue
        seen.add(code)
        codes.append(code)
    return codes


def exposure(secret_loss: float, candidate_losses: Sequence[float]) -> float:
    """Estimated exposure in bits of a secret with NLL `secret_loss` among sampled candidates' NLLs.

    The secret's rank counts only candidates strictly more likely than it, so a tie goes to the
    secret: the estimate errs towards more exposure, the safe side for an audit.
    """
    if not candidate_losses:
        raise ValueError("exposure needs at least one candidate")
    if math.isnan(secret_loss):
        raise ValueError("the secret's loss is NaN")
    rank = 1 + sum(1 for loss in candidate_losses if loss < secret_loss)
    return math.log2(len(candidate_losses) + 1) - math.log2(rank)


def chance_exposure(candidates: int) -> float:
    """Mean exposure of a secret whose rank is uniform over 1…S+1: log2(S+1) − log2((S+1)!)/(S+1)."""
    if candidates < 1:
        raise ValueError("chance exposure needs at least one candidate")
    n = candidates + 1
    return math.log2(n) - math.lgamma(n + 1) / math.log(2) / n


def max_exposure(candidates: int) -> float:
    """The largest exposure the estimate can show: the secret ranked first among S + 1."""
    return math.log2(candidates + 1)


def membership_auc(inserted_losses: Sequence[float], held_out_losses: Sequence[float]) -> float:
    """AUC of the loss-threshold attack: P(an inserted canary has lower loss than a held-out one), ties half.

    0.5 is chance (the model treats canaries it trained on like ones it never saw); 1.0 means
    every inserted canary is more likely than every held-out one.
    """
    if not inserted_losses or not held_out_losses:
        raise ValueError("the AUC needs inserted and held-out canaries")
    wins = 0.0
    for a in inserted_losses:
        for b in held_out_losses:
            wins += 1.0 if a < b else 0.5 if a == b else 0.0
    return wins / (len(inserted_losses) * len(held_out_losses))


def secrets_found(texts: Iterable[str], secrets: Sequence[str]) -> int:
    """How many distinct `secrets` appear verbatim in any of `texts`."""
    remaining = set(secrets)
    found = 0
    for text in texts:
        hits = {s for s in remaining if s in text}
        found += len(hits)
        remaining -= hits
        if not remaining:
            break
    return found
