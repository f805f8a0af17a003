"""train-reward end to end: one private record = one DP example with all its pairs."""

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from conftest import sagemaker_layout
from safetensors.torch import load_file
from test_train_generator import CONFIG, DP_METRIC_KEYS, rdp_epsilon

from rewardds_jobs.contract import Job
from rewardds_jobs.models import load_reward_model, load_tokenizer
from rewardds_jobs.stages import train_reward
from rewardds_jobs.stages.score import rewards
from rewardds_jobs.stages.train_reward import EncodedRecord, pair_batch, pair_record_losses


def pair_records(n):
    records = []
    for i in range(n):
        q = f"How do I treat a mild burn? (case {i})"
        good, base, gen = f"Cool it under running water, case {i}.", "Ignore it.", "Put butter on it."
        pairs = [
            {"prompt": q, "chosen": good, "rejected": base},
            {"prompt": q, "chosen": good, "rejected": gen},
            {"prompt": q, "chosen": gen, "rejected": base},
        ]
        # Record 0 has a single pair: it must still count as one record, like the others.
        records.append({"id": f"p-{i}", "pairs": pairs[:1] if i == 0 else pairs})
    return records


def test_trains_reward_adapter_and_head_with_records_as_the_dp_unit(tmp_path, tiny_base, run_job):
    records = pair_records(8)
    layout = sagemaker_layout(tmp_path, "train-reward", {"pairs": records, "base": tiny_base}, CONFIG)
    done = run_job(layout)
    assert done.returncode == 0, done.stderr[-2000:]

    metrics = layout.metrics()
    assert set(metrics) == DP_METRIC_KEYS and metrics["stage"] == "train-reward"
    # 8 records (22 pairs, 44 sequences): the DP unit, q and the steps are per record.
    assert metrics["records"] == 8 and metrics["sampleRate"] == 0.5
    assert metrics["steps"] == 2 * math.ceil(8 / 4)
    assert metrics["epsilon"] == rdp_epsilon(0.9, 0.5, metrics["steps"], 1e-5)

    out = layout.model_dir
    adapter = load_file(str(out / "adapter_model.safetensors"))
    assert any("score" in k for k in adapter), "the trained score head must be saved with the adapter"
    assert any("lora_A" in k for k in adapter)

    tokenizer = load_tokenizer(out)
    ids = torch.tensor([tokenizer("<|user|>\nhi\n<|assistant|>\nhello", add_special_tokens=False)["input_ids"]])
    scores = []
    for seed in (1, 2):
        # A head not restored from the adapter would be re-initialised differently per seed.
        torch.manual_seed(seed)
        model = load_reward_model(tiny_base, out, device=torch.device("cpu"))
        with torch.no_grad():
            scores.append(model(input_ids=ids).logits)
    assert scores[0].shape == (1, 1) and torch.equal(scores[0], scores[1])


def test_a_malformed_pair_names_line_and_field_and_quotes_nothing(tmp_path, tiny_base, run_job):
    records = pair_records(3)
    secret = records[2]["pairs"][1].pop("chosen")
    layout = sagemaker_layout(tmp_path, "train-reward", {"pairs": records, "base": tiny_base}, CONFIG)
    done = run_job(layout)
    assert done.returncode == 1
    assert layout.failure.read_text().strip() == "pairs/pairs.jsonl:3: pairs[1].chosen: missing"
    assert secret not in done.stderr


class FirstTokenScore(torch.nn.Module):
    """A stand-in reward model whose score of a row is its first token id: scores known in advance."""

    def forward(self, input_ids, attention_mask):
        assert attention_mask.shape == input_ids.shape
        return SimpleNamespace(logits=input_ids[:, :1].float())


def test_the_loss_takes_chosen_as_the_preferred_side_of_each_pair():
    # Record 0: pairs scored (chosen 5 vs rejected 2) and (chosen 3 vs rejected 4); record 1: (chosen 9 vs 1).
    records = [
        EncodedRecord.from_pairs(chosen=[[5, 7], [3]], rejected=[[2], [4, 7, 7]]),
        EncodedRecord.from_pairs(chosen=[[9]], rejected=[[1, 7]]),
    ]
    losses = pair_record_losses(FirstTokenScore(), pair_batch(records, pad_id=0))

    def bt(chosen: float, rejected: float) -> torch.Tensor:
        return -F.logsigmoid(torch.tensor(float(chosen - rejected)))

    expected = torch.stack([bt(5, 2) + bt(3, 4), bt(9, 1)])
    assert torch.allclose(losses, expected, atol=1e-6)
    # A well-ranked pair costs less than its mirror: the loss is not symmetric in the two sides.
    assert losses[1] < 0.01


def test_a_sequence_shared_by_pairs_is_one_row_and_the_loss_is_unchanged():
    # The design's three pairs a ≻ b, a ≻ g, g ≻ b over a = [8], b = [2], g = [5, 1]: three rows, not six.
    a, b, g = [8], [2], [5, 1]
    record = EncodedRecord.from_pairs(chosen=[a, a, g], rejected=[b, g, b])
    assert record.rows == [a, b, g] and record.pairs == [(0, 1), (0, 2), (2, 1)]
    other = EncodedRecord.from_pairs(chosen=[[9]], rejected=[[1, 7]])
    batch = pair_batch([other, record], pad_id=0)
    assert batch.inputs["input_ids"].shape[0] == 5
    assert batch.row_record.tolist() == [0, 0, 1, 1, 1]
    assert batch.pair_rows.tolist() == [[0, 1], [2, 3], [2, 4], [4, 3]]

    def bt(chosen: float, rejected: float) -> torch.Tensor:
        return -F.logsigmoid(torch.tensor(float(chosen - rejected)))

    losses = pair_record_losses(FirstTokenScore(), batch)
    expected = torch.stack([bt(9, 1), bt(8, 2) + bt(8, 5) + bt(5, 2)])
    assert torch.allclose(losses, expected, atol=1e-6)


@pytest.mark.slow
def test_without_noise_the_trained_reward_ranks_chosen_above_rejected_on_its_pairs(tmp_path, tiny_base):
    # One steady preference the tiny model can learn in a few noise-free steps.
    good, bad = "Cool it under running water and see a nurse.", "No."
    records = [
        {
            "id": f"p-{i}",
            "pairs": [
                {"prompt": f"How do I treat a burn? (case {i})", "chosen": good, "rejected": bad},
                {"prompt": f"What about a cut? (case {i})", "chosen": f"Clean it, case {i}.", "rejected": bad},
            ],
        }
        for i in range(6)
    ]
    config = {**CONFIG, "noiseMultiplier": 0.0, "batchSize": 6, "epochs": 8, "learningRate": 3e-2, "clipNorm": 10.0}
    layout = sagemaker_layout(tmp_path, "train-reward", {"pairs": records, "base": tiny_base}, config)
    job = Job.from_env("train-reward", {**layout.env, "SM_CHECKPOINT_DIR": str(tmp_path / "no-checkpoints")})
    metrics = train_reward.run(job)
    assert metrics["epsilon"] is None and metrics["steps"] == 8

    pairs = [p for r in records for p in r["pairs"]]
    model = load_reward_model(tiny_base, layout.model_dir, device=torch.device("cpu"))
    tokenizer = load_tokenizer(layout.model_dir)
    chosen = rewards(model, tokenizer, [(p["prompt"], p["chosen"]) for p in pairs], max_length=64, batch_size=4)
    rejected = rewards(model, tokenizer, [(p["prompt"], p["rejected"]) for p in pairs], max_length=64, batch_size=4)
    margins = [c - r for c, r in zip(chosen, rejected, strict=True)]
    assert all(m > 0 for m in margins), margins
