"""The per-record losses against numbers worked out by hand."""

import math

import pytest
import torch

from rewardds_jobs.losses import IGNORE_INDEX, pair_loss_per_record, response_lm_loss_per_row
from rewardds_jobs.sft import encode_sft, truncate_pair

LN3 = math.log(3.0)


def test_pair_loss_sums_all_pairs_of_each_record():
    # Record 0: margins 0 and ln 3 → log 2 + log(4/3) = log(8/3) (σ(ln 3) = 3/4).
    # Record 1: margin −ln 3 → σ = 1/4 → log 4.
    chosen = torch.tensor([1.0, LN3 + 2.0, 0.0])
    rejected = torch.tensor([1.0, 2.0, LN3])
    pair_record = torch.tensor([0, 0, 1])
    got = pair_loss_per_record(chosen, rejected, pair_record, n_records=2)
    assert got.tolist() == pytest.approx([math.log(8 / 3), math.log(4.0)], rel=1e-6)


def test_pair_loss_of_a_record_with_no_pair_in_the_batch_is_zero():
    got = pair_loss_per_record(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([1]), n_records=3)
    assert got.tolist() == pytest.approx([0.0, math.log(2.0), 0.0])


def test_pair_loss_refuses_misaligned_inputs():
    with pytest.raises(ValueError, match=r"^chosen, rejected and pair_record must have one entry per pair$"):
        pair_loss_per_record(torch.zeros(2), torch.zeros(3), torch.zeros(2, dtype=torch.long), 1)


def test_pair_loss_stays_on_the_inputs_device():
    # On a GPU the scores live on the GPU; an accumulator made on the default device would
    # make index_add fail there. The meta device stands in for the GPU the tests lack.
    scores = torch.zeros(2, device="meta")
    got = pair_loss_per_record(scores, scores, torch.tensor([0, 1], device="meta"), n_records=3)
    assert got.device.type == "meta" and got.shape == (3,)


@pytest.fixture
def float64_default():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_pair_loss_does_not_depend_on_the_global_default_dtype(float64_default):
    # A process that switched the default to float64 must still get the float32 loss the
    # scores are computed in, not a dtype clash inside index_add.
    chosen = torch.tensor([LN3], dtype=torch.float32)
    got = pair_loss_per_record(chosen, torch.zeros(1, dtype=torch.float32), torch.tensor([0]), n_records=1)
    assert got.dtype == torch.float32
    assert got.tolist() == pytest.approx([math.log(4 / 3)], rel=1e-6)


def test_lm_loss_counts_response_tokens_only_and_shifts_by_one():
    vocab = 4
    # Row 0: tokens [p, p, r1, r2]; positions 0-1 are prompt. The logits at position t
    # predict token t+1, so positions 1 and 2 predict r1 and r2.
    logits = torch.zeros(2, 4, vocab)
    logits[0, 0] = torch.tensor([50.0, -50.0, 0.0, 0.0])  # predicts a prompt token: ignored
    logits[0, 1] = torch.tensor([0.0, LN3, 0.0, 0.0])  # p(target=1) = 3/6 → log 2
    # logits[0, 2] uniform → log 4 for target 3
    logits[0, 3] = torch.tensor([99.0, 0.0, 0.0, 0.0])  # last position predicts nothing
    labels = torch.tensor(
        [
            [IGNORE_INDEX, IGNORE_INDEX, 1, 3],
            [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX],  # response truncated away
        ]
    )
    got = response_lm_loss_per_row(logits, labels)
    assert got.tolist() == pytest.approx([(math.log(2) + math.log(4)) / 2, 0.0], rel=1e-6)


def test_lm_loss_of_a_single_response_token_is_that_token_s_cross_entropy():
    # Uniform logits over 4 tokens: the one response token costs log 4, divided by 1 token.
    logits = torch.zeros(1, 3, 4)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 2]])
    assert response_lm_loss_per_row(logits, labels).tolist() == pytest.approx([math.log(4)], rel=1e-6)


def test_lm_loss_averages_each_row_over_its_own_response_tokens():
    # Uniform logits: every response token costs log 4. Rows of 2 and 1 response tokens both
    # average to log 4; dividing by the batch's 3 tokens would give 2/3 and 1/3 of it.
    logits = torch.zeros(2, 3, 4)
    labels = torch.tensor([[IGNORE_INDEX, 1, 2], [IGNORE_INDEX, IGNORE_INDEX, 3]])
    assert response_lm_loss_per_row(logits, labels).tolist() == pytest.approx([math.log(4)] * 2, rel=1e-6)


def test_lm_loss_scores_token_id_zero_as_itself():
    # Id 0 is a real token (often punctuation or a byte); only IGNORE_INDEX positions may be
    # remapped before cross_entropy. p(0) = 3/6 → log 2, whereas p(1) = 1/6 would give log 6.
    logits = torch.zeros(1, 2, 4)
    logits[0, 0] = torch.tensor([LN3, 0.0, 0.0, 0.0])
    labels = torch.tensor([[IGNORE_INDEX, 0]])
    assert response_lm_loss_per_row(logits, labels).tolist() == pytest.approx([math.log(2)], rel=1e-6)


def test_lm_loss_gradient_is_finite_for_a_row_without_response():
    logits = torch.zeros(1, 3, 5, requires_grad=True)
    labels = torch.full((1, 3), IGNORE_INDEX)
    response_lm_loss_per_row(logits, labels).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_truncation_keeps_the_end_of_the_prompt_and_the_start_of_the_response():
    prompt, response = list(range(10)), list(range(100, 110))
    assert truncate_pair(prompt, response, 30) == (prompt, response)
    p, r = truncate_pair(prompt, response, 8)
    assert p == [6, 7, 8, 9] and r == [100, 101, 102, 103]
    p, r = truncate_pair(prompt, [100, 101], 8)
    assert p == list(range(4, 10)) and r == [100, 101]


class _CharTokenizer:
    eos_token_id = 0

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


def test_encode_sft_learns_the_prompt_only_when_asked():
    plain = encode_sft(_CharTokenizer(), "<u>ab", "cd", 64)
    both = encode_sft(_CharTokenizer(), "<u>ab", "cd", 64, learn_prompt=True)
    assert plain.input_ids == both.input_ids == [ord(c) for c in "<u>abcd"] + [0]
    assert plain.labels == [IGNORE_INDEX] * 5 + [ord("c"), ord("d"), 0]
    assert both.labels == both.input_ids
