"""Per-record training losses, as pure tensor functions.

Both return one loss per *record*, not a batch mean: DP-SGD clips each record's gradient
on its own, so the record must stay visible up to the moment the gradient is taken
(docs/design.md#dp-sgd-per-record). Batch reduction is the caller's business.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def response_lm_loss_per_row(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over each row's response tokens.

    logits: [rows, T, vocab]; labels: [rows, T] with IGNORE_INDEX on prompt and padding
    (aligned with the inputs, as Hugging Face does; the shift happens here). Returns
    [rows]. A row with no response token left (truncated away) has loss 0 and so no
    gradient, rather than a NaN that would poison the whole step.
    """
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    mask = shift_labels != IGNORE_INDEX
    token_loss = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)),
        shift_labels.clamp(min=0).reshape(-1),
        reduction="none",
    ).view_as(shift_labels)
    summed = (token_loss * mask).sum(dim=1)
    return summed / mask.sum(dim=1).clamp(min=1)


def pair_loss_per_record(
    chosen_scores: torch.Tensor,
    rejected_scores: torch.Tensor,
    pair_record: torch.Tensor,
    n_records: int,
) -> torch.Tensor:
    """Bradley-Terry loss summed over all pairs of one record.

    For record i: -Σ_{pairs p of i} log σ(r(chosen_p) − r(rejected_p)). The pairs of a
    record are summed, not averaged, as docs/design.md#dp-train-reward-proxy states; the record's whole
    contribution is then bounded by per-record clipping, however many pairs it has.

    chosen_scores, rejected_scores: [pairs]; pair_record: [pairs] long, the record index
    (0..n_records-1) each pair belongs to. Returns [n_records].
    """
    if not (chosen_scores.shape == rejected_scores.shape == pair_record.shape):
        raise ValueError("chosen, rejected and pair_record must have one entry per pair")
    per_pair = -F.logsigmoid(chosen_scores.float() - rejected_scores.float())
    out = torch.zeros(n_records, dtype=per_pair.dtype, device=per_pair.device)
    return out.index_add(0, pair_record, per_pair)
