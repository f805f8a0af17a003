"""train-reward end to end: one private record = one DP example with all its pairs."""

import math

import torch
from safetensors.torch import load_file
from test_train_generator import CONFIG, DP_METRIC_KEYS, rdp_epsilon

from rewardds_jobs.models import load_reward_model, load_tokenizer


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


def test_trains_reward_adapter_and_head_with_records_as_the_dp_unit(tmp_path, tiny_base, sagemaker_layout, run_job):
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


def test_a_malformed_pair_names_line_and_field_and_quotes_nothing(tmp_path, tiny_base, sagemaker_layout, run_job):
    records = pair_records(3)
    secret = records[2]["pairs"][1].pop("chosen")
    layout = sagemaker_layout(tmp_path, "train-reward", {"pairs": records, "base": tiny_base}, CONFIG)
    done = run_job(layout)
    assert done.returncode == 1
    assert layout.failure.read_text().strip() == "pairs/pairs.jsonl:3: pairs[1].chosen: missing"
    assert secret not in done.stderr
