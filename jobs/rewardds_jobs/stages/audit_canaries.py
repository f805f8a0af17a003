"""audit-canaries (private zone): the empirical privacy audit of the DP generator (docs/privacy.md,
"Empirical audit with canaries").

Prepare run put k canary records (a fixed template, a random 10-digit secret each) into the
training set, and wrote them with k never-inserted canaries of the same template to the
`canaries` channel. Here, under the trained generator G (base + adapter):

- each inserted secret's **exposure**: its rank by likelihood among S random candidate codes
  of the same template (canaries.exposure);
- the **membership-inference AUC** of the loss attack, inserted vs never-inserted canaries;
- how many inserted secrets appear verbatim in the synthetic data (channels `queries` and
  `candidates`, every file under them).

Only these aggregates are written; the secrets, the losses and the ranks stay in this job.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from pathlib import Path

from ..canaries import chance_exposure, exposure, max_exposure, membership_auc, random_codes, secrets_found
from ..config import AuditCanariesConfig
from ..contract import Job
from ..failure import JobInputError
from ..models import load_causal_lm, load_tokenizer
from ..records import display_name, read_unique
from .score import response_nlls

log = logging.getLogger(__name__)

STAGE = "audit-canaries"
SECRET = re.compile(r"^\d{10}$")
# Synthesis-zone outputs the generator's text reaches: synthetic queries and every round's candidates.
SCANNED_CHANNELS = ("queries", "candidates")


def read_canaries(path: Path) -> list[dict]:
    """`{id, prompt, response, secret, inserted}` lines; the response must carry its secret once."""
    label = display_name(path)
    records = read_unique(path, {"prompt": str, "response": str, "secret": str, "inserted": bool}, name=label)
    for line_no, record in enumerate(records, start=1):
        if not SECRET.match(record["secret"]):
            raise JobInputError(label, line_no, "secret", "must be 10 digits")
        if record["response"].count(record["secret"]) != 1:
            raise JobInputError(label, line_no, "response", "must contain its secret exactly once")
    if not any(r["inserted"] for r in records) or all(r["inserted"] for r in records):
        raise JobInputError(label, None, "inserted", "needs both inserted and never-inserted canaries")
    return records


def scanned_texts(folders: list[Path]) -> Iterator[str]:
    """Every line of every file under `folders`, streamed: a round's candidates can be gigabytes.
    A JSONL line escapes its newlines, so a secret never spans two lines."""
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            with path.open(encoding="utf-8", errors="replace") as handle:
                yield from handle


def run(job: Job[AuditCanariesConfig]) -> dict:
    cfg = job.config
    canaries = read_canaries(job.jsonl_path("canaries"))
    base = job.model_path("base")
    generator = job.model_path("generator")
    tokenizer = load_tokenizer(generator, fallback=base)
    model = load_causal_lm(base, generator)

    def nll(pairs: list[tuple[str, str]]) -> list[float]:
        return [
            total
            for total, _ in response_nlls(model, tokenizer, pairs, max_length=cfg.max_length, batch_size=cfg.batch_size)
        ]

    losses = nll([(c["prompt"], c["response"]) for c in canaries])
    # Candidates are public random codes; seeded so a rerun ranks against the same sample.
    codes = random_codes(cfg.candidates, random.Random(cfg.seed), exclude=[c["secret"] for c in canaries])
    exposures = []
    candidate_losses: dict[tuple[str, str], list[float]] = {}
    for canary, loss in zip(canaries, losses, strict=True):
        if not canary["inserted"]:
            continue
        # Canaries of one template share one candidate set: scored once per (prompt, template).
        template = (canary["prompt"], canary["response"].replace(canary["secret"], "{}"))
        if template not in candidate_losses:
            candidate_losses[template] = nll([(template[0], template[1].replace("{}", code)) for code in codes])
        exposures.append(exposure(loss, candidate_losses[template]))

    inserted = [loss for canary, loss in zip(canaries, losses, strict=True) if canary["inserted"]]
    held_out = [loss for canary, loss in zip(canaries, losses, strict=True) if not canary["inserted"]]
    folders = [folder for name in SCANNED_CHANNELS if (folder := job.channel(name, optional=True)) is not None]
    found = secrets_found(scanned_texts(folders), [c["secret"] for c in canaries if c["inserted"]])
    log.info(
        "audited %d inserted and %d held-out canaries against %d candidates", len(inserted), len(held_out), len(codes)
    )
    return {
        "canaries": len(inserted),
        "heldOut": len(held_out),
        "candidates": len(codes),
        "exposures": [round(e, 4) for e in exposures],
        "chanceExposure": round(chance_exposure(len(codes)), 4),
        "maxExposure": round(max_exposure(len(codes)), 4),
        "auc": round(membership_auc(inserted, held_out), 4),
        "secretsInSynthetic": found,
        "scanned": bool(folders),
    }
