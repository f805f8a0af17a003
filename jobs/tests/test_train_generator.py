"""train-generator end to end: `python -m rewardds_jobs train-generator` on a SageMaker layout."""

import json
import math

import torch
from conftest import fixture_records
from opacus.accountants import RDPAccountant
from safetensors.torch import load_file

from rewardds_jobs.models import load_causal_lm

DP_METRIC_KEYS = {
    "stage",
    "records",
    "epochs",
    "steps",
    "sampleRate",
    "noiseMultiplier",
    "clipNorm",
    "delta",
    "epsilon",
    "accountant",
    "losses",
    "lossFirst",
    "lossLast",
    "tokensPerSecond",
    "seconds",
}
CONFIG = {
    "seed": 7,
    "epochs": 2,
    "batchSize": 4,
    "learningRate": 1e-2,
    "lora": {"r": 4, "alpha": 8, "dropout": 0.0},
    "maxLength": 64,
    "noiseMultiplier": 0.9,
    "clipNorm": 1.0,
    "delta": 1e-5,
}


def rdp_epsilon(noise, q, steps, delta):
    accountant = RDPAccountant()
    for _ in range(steps):
        accountant.step(noise_multiplier=noise, sample_rate=q)
    return accountant.get_epsilon(delta)


def run_generator(tmp_path, tiny_base, sagemaker_layout, run_job, records, config=CONFIG):
    layout = sagemaker_layout(tmp_path, "train-generator", {"train": records, "base": tiny_base}, config)
    done = run_job(layout)
    assert done.returncode == 0, done.stderr[-2000:]
    return layout


def test_trains_a_dp_adapter_and_reports_the_accountants_epsilon(tmp_path, tiny_base, sagemaker_layout, run_job):
    records = fixture_records(10)
    layout = run_generator(tmp_path / "a", tiny_base, sagemaker_layout, run_job, records)

    metrics = layout.metrics()
    assert set(metrics) == DP_METRIC_KEYS
    assert json.loads((layout.output_data / "metrics.json").read_text()) == metrics
    assert metrics["stage"] == "train-generator" and metrics["accountant"] == "rdp"
    assert metrics["records"] == 10 and metrics["epochs"] == 2
    assert metrics["sampleRate"] == 0.4 and metrics["steps"] == 2 * math.ceil(10 / 4)
    assert (metrics["noiseMultiplier"], metrics["clipNorm"], metrics["delta"]) == (0.9, 1.0, 1e-5)
    # ε is Opacus' RDP accountant's for the plan's q and the steps the job reports.
    expected = rdp_epsilon(0.9, 4 / 10, 2 * math.ceil(10 / 4), 1e-5)
    assert metrics["epsilon"] == expected
    assert metrics["epsilon"] == rdp_epsilon(
        metrics["noiseMultiplier"], metrics["sampleRate"], metrics["steps"], metrics["delta"]
    )
    assert metrics["losses"] and metrics["lossFirst"] == metrics["losses"][0]
    assert metrics["lossLast"] == metrics["losses"][-1] and metrics["tokensPerSecond"] > 0

    out = layout.model_dir
    assert (out / "adapter_config.json").is_file() and (out / "tokenizer.json").is_file()
    adapter = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert lora_b and all(v.abs().sum() > 0 for v in lora_b)  # B starts at 0: training moved it

    tuned = load_causal_lm(tiny_base, out, device=torch.device("cpu"))
    plain = load_causal_lm(tiny_base, device=torch.device("cpu"))
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert not torch.allclose(tuned(input_ids=ids).logits, plain(input_ids=ids).logits)
    # Records never reach the job's log.
    assert records[0]["response"] not in (out / "metrics.json").read_text()


def test_dp_noise_is_not_replayable_from_the_run_seed(tmp_path, tiny_base, sagemaker_layout, run_job):
    # The run config (and its seed) is stored in the synthesis zone; if the seed fixed the
    # DP noise, anyone holding it could subtract the noise. Two jobs with the same config
    # must therefore draw different noise and end with different adapters.
    records = fixture_records(6)
    first = run_generator(tmp_path / "a", tiny_base, sagemaker_layout, run_job, records)
    second = run_generator(tmp_path / "b", tiny_base, sagemaker_layout, run_job, records)
    a = load_file(str(first.model_dir / "adapter_model.safetensors"))
    b = load_file(str(second.model_dir / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    assert not all(torch.equal(a[k], b[k]) for k in a)
    # The accounting does not depend on the draw.
    assert first.metrics()["epsilon"] == second.metrics()["epsilon"]
    assert first.metrics()["steps"] == second.metrics()["steps"]


def test_a_bad_record_fails_with_file_line_and_field_only(tmp_path, tiny_base, sagemaker_layout, run_job):
    records = fixture_records(3)
    secret = records[1].pop("response")
    layout = sagemaker_layout(tmp_path, "train-generator", {"train": records, "base": tiny_base}, CONFIG)
    done = run_job(layout)
    assert done.returncode == 1
    reason = layout.failure.read_text().strip()
    assert reason == "train/train.jsonl:2: response: missing"
    assert secret not in done.stderr and records[1]["prompt"] not in done.stderr


def test_loss_on_prompt_and_response_puts_the_question_in_the_loss(tiny_base):
    from rewardds_jobs.config import parse_stage_config
    from rewardds_jobs.losses import IGNORE_INDEX
    from rewardds_jobs.models import load_tokenizer
    from rewardds_jobs.stages.train_generator import encode_examples

    tokenizer = load_tokenizer(tiny_base)
    records = fixture_records(3)
    answers = encode_examples(tokenizer, records, parse_stage_config("train-generator", CONFIG))
    both_cfg = parse_stage_config("train-generator", {**CONFIG, "lossOn": "prompt-and-response"})
    both = encode_examples(tokenizer, records, both_cfg)
    for a, b in zip(answers, both, strict=True):
        assert a.input_ids == b.input_ids
        prompt = a.labels.count(IGNORE_INDEX)
        assert prompt > 10 and a.labels[prompt:] == b.labels[prompt:]
        # The question (and the template around it) is learnt only with prompt-and-response.
        assert b.labels == b.input_ids
