"""DP-SGD wiring (dp.py) on tiny real models: Opacus sampling, clipping, noise, accounting."""

import copy
import math
import time

import pytest
import torch
from opacus.accountants import RDPAccountant
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from transformers import AutoModelForSequenceClassification

from rewardds_jobs.config import LoraConfig
from rewardds_jobs.dp import (
    DPResult,
    DPSettings,
    DPTrainer,
    RecordBatch,
    _inputs_to_fp32,
    _mechanism_generator,
    dp_metrics,
    parameters_device,
    planned_steps,
    sample_rate,
    sum_rows_per_record,
    train_dp,
)
from rewardds_jobs.lora import attach_lora
from rewardds_jobs.models import load_causal_lm, load_reward_model, load_tokenizer, lora_target_modules
from rewardds_jobs.prompts import format_prompt
from rewardds_jobs.sft import encode_sft, lm_record_losses, sft_batch
from rewardds_jobs.stages.train_reward import encode_record, pair_batch, pair_record_losses
from rewardds_jobs.tiny import make_tiny_model

CPU = torch.device("cpu")
NO_DROPOUT = LoraConfig(r=8, alpha=16, dropout=0.0)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("dp-base"), layers=2, hidden=64, seed=0)


@pytest.fixture(scope="module")
def tokenizer(base_dir):
    return load_tokenizer(base_dir)


def lm_with_lora(base_dir, seed=0):
    torch.manual_seed(seed)
    model = load_causal_lm(base_dir, device=CPU)
    return attach_lora(model, NO_DROPOUT, lora_target_modules(model))


def reward_with_lora(base_dir, tokenizer, seed=0):
    torch.manual_seed(seed)
    model = load_reward_model(base_dir, device=CPU, pad_token_id=tokenizer.pad_token_id)
    return attach_lora(model, NO_DROPOUT, lora_target_modules(model), reward=True)


def learnable_examples(tokenizer, n=24):
    # Every answer is the same short phrase: a random model can learn it in a few steps.
    return [encode_sft(tokenizer, format_prompt(tokenizer, f"question {i}?"), "ok.", 64) for i in range(n)]


def mean_loss(model, examples, pad_id):
    model.eval()
    with torch.no_grad():
        return float(lm_record_losses(model, sft_batch(examples, pad_id)).mean())


def lora_state(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def frozen_state(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}


def pair_records(tokenizer):
    three = {
        "pairs": [
            {"prompt": "What helps a cold?", "chosen": "Rest and fluids.", "rejected": "Nothing."},
            {"prompt": "What helps a cold?", "chosen": "Rest and fluids.", "rejected": "Eat sand."},
            {"prompt": "What helps a cold?", "chosen": "Eat sand.", "rejected": "Nothing."},
        ]
    }
    one = {"pairs": [{"prompt": "Is water wet?", "chosen": "Yes, it is.", "rejected": "Blue."}]}
    return [encode_record(tokenizer, three, 64), encode_record(tokenizer, one, 64)]


def test_sampling_formulas_match_the_job_contract():
    assert sample_rate(64, 1000) == 0.064
    assert sample_rate(64, 10) == 1.0
    assert planned_steps(3, 64, 1000) == 3 * 16
    assert planned_steps(2, 64, 10) == 2


def test_sampling_formulas_refuse_empty_inputs():
    assert sample_rate(1, 1) == 1.0 and planned_steps(1, 1, 1) == 1  # the smallest valid inputs
    for batch_size, records in [(64, 0), (0, 10)]:
        with pytest.raises(ValueError, match=r"^records and batch size must be positive$"):
            sample_rate(batch_size, records)
    with pytest.raises(ValueError, match=r"^epochs must be positive$"):
        planned_steps(0, 64, 1000)


def settings_with(**overrides):
    values = dict(batch_size=2, epochs=1, learning_rate=1e-2, noise_multiplier=1.0, clip_norm=1.0, delta=1e-5)
    return DPSettings(**(values | overrides))


def test_settings_refuse_what_would_void_the_guarantee():
    settings_with(noise_multiplier=0.0)  # σ = 0 is allowed: it reports ε = ∞ (tests, baselines)
    for overrides, message in [
        ({"noise_multiplier": -0.1}, "noise multiplier must be >= 0"),
        ({"clip_norm": 0.0}, "clip norm must be > 0"),
        ({"delta": 0.0}, r"delta must lie in \(0, 1\)"),
        ({"delta": 1.0}, r"delta must lie in \(0, 1\)"),
    ]:
        with pytest.raises(ValueError, match=f"^{message}$"):
            settings_with(**overrides)


def test_metrics_have_exactly_the_job_contract_keys_and_values():
    settings = settings_with(epochs=3, noise_multiplier=0.8, clip_norm=0.5, delta=2e-6)
    result = DPResult(records=10, steps=15, sample_rate=0.2, epsilon=1.25, losses=[3.0, 2.0, 1.5], tokens=300)
    result.seconds = 0.5  # below 1 s, so the rate is a division, not a copy
    assert dp_metrics("train-generator", settings, result) == {
        "stage": "train-generator",
        "records": 10,
        "epochs": 3,
        "steps": 15,
        "sampleRate": 0.2,
        "noiseMultiplier": 0.8,
        "clipNorm": 0.5,
        "delta": 2e-6,
        "epsilon": 1.25,
        "accountant": "rdp",
        "losses": [3.0, 2.0, 1.5],
        "lossFirst": 3.0,
        "lossLast": 1.5,
        "tokensPerSecond": 600.0,
        "seconds": 0.5,
    }


def test_metrics_of_a_run_without_noise_steps_or_time():
    # σ = 0 gives ε = ∞, which JSON cannot hold: null says "no guarantee". No batch, no loss.
    result = DPResult(records=4, steps=0, sample_rate=0.5, epsilon=math.inf, tokens=7)
    metrics = dp_metrics("train-reward", settings_with(noise_multiplier=0.0), result)
    assert metrics["epsilon"] is None
    assert (metrics["lossFirst"], metrics["lossLast"], metrics["tokensPerSecond"]) == (None, None, 0.0)
    assert metrics["losses"] == [] and metrics["seconds"] == 0.0


@pytest.mark.slow
def test_dp_training_changes_lora_lowers_loss_and_keeps_base_frozen(base_dir, tokenizer):
    model = lm_with_lora(base_dir)
    examples = learnable_examples(tokenizer)
    pad = tokenizer.pad_token_id
    before_lora, before_base = lora_state(model), frozen_state(model)
    loss_before = mean_loss(model, examples, pad)

    settings = DPSettings(
        batch_size=8, epochs=6, learning_rate=5e-2, noise_multiplier=0.3, clip_norm=1.0, delta=1e-5, mechanism_seed=0
    )
    result = train_dp(
        model, examples, make_batch=lambda b: sft_batch(b, pad), record_losses=lm_record_losses, settings=settings
    )

    after_lora, after_base = lora_state(model), frozen_state(model)
    assert before_lora.keys() == after_lora.keys() and any("lora_B" in n for n in after_lora)
    # lora_B starts at zero: a working PEFT+Opacus update must move it (docs/design.md#dp-sgd-per-record).
    for name, value in after_lora.items():
        assert not torch.equal(value, before_lora[name]), f"{name} did not change"
    for name, value in after_base.items():
        assert torch.equal(value, before_base[name]), f"frozen {name} changed"
    loss_after = mean_loss(model, examples, pad)
    # The tiny random model's logits are bounded (tied embeddings of std 0.02), so even
    # plain SGD only gets from ln(vocab) ≈ 5.56 to about 4.7 here; DP must get most of that.
    assert loss_after < loss_before - 0.4
    assert result.steps == planned_steps(6, 8, len(examples))
    assert len(result.losses) <= result.steps and result.tokens > 0


@pytest.mark.slow
def test_reported_epsilon_is_opacus_rdp_for_the_steps_taken(base_dir, tokenizer):
    model = lm_with_lora(base_dir)
    examples = learnable_examples(tokenizer, n=12)
    pad = tokenizer.pad_token_id
    # q = 1/12: many Poisson batches are empty, and each must still count as a step.
    settings = DPSettings(
        batch_size=1, epochs=2, learning_rate=1e-3, noise_multiplier=1.1, clip_norm=1.0, delta=1e-5, mechanism_seed=3
    )
    result = train_dp(
        model, examples, make_batch=lambda b: sft_batch(b, pad), record_losses=lm_record_losses, settings=settings
    )

    assert result.steps == 24 and result.sample_rate == pytest.approx(1 / 12)
    independent = RDPAccountant()
    for _ in range(24):
        independent.step(noise_multiplier=1.1, sample_rate=1 / 12)
    assert result.epsilon == pytest.approx(independent.get_epsilon(1e-5), rel=1e-12)
    assert math.isfinite(result.epsilon) and result.epsilon > 0


class Interrupted(Exception):
    """Stands in for a spot interruption in the middle of a training."""


@pytest.mark.slow
def test_an_interrupted_training_resumes_from_its_checkpoint_and_accounts_every_step_once(
    base_dir, tokenizer, tmp_path
):
    examples = learnable_examples(tokenizer, n=12)
    pad = tokenizer.pad_token_id
    settings = DPSettings(batch_size=3, epochs=3, learning_rate=1e-2, noise_multiplier=1.1, clip_norm=1.0, delta=1e-5)
    planned = planned_steps(3, 3, 12)  # 12 steps
    calls = {"n": 0}

    def failing_after_seven(module, batch):
        calls["n"] += 1
        if calls["n"] > 7:
            raise Interrupted()
        return lm_record_losses(module, batch)

    model = lm_with_lora(base_dir)
    before = lora_state(model)
    with pytest.raises(Interrupted):
        train_dp(
            model,
            examples,
            make_batch=lambda b: sft_batch(b, pad),
            record_losses=failing_after_seven,
            settings=settings,
            checkpoint_dir=tmp_path,
            checkpoint_every=4,
        )
    saved = torch.load(tmp_path / "dp-state.pt", weights_only=False)
    # Non-empty batches only reach record_losses, so the interruption fell after step 7 or later;
    # the last checkpoint is at a multiple of 4 before it.
    assert saved["steps"] in (4, 8)
    # Opacus keeps (σ, q, consecutive steps) entries: together they hold every step taken.
    assert sum(entry[2] for entry in saved["accountant"]) == saved["steps"]

    # The restarted job: a fresh model from the same base, as SageMaker would start it.
    resumed_model = lm_with_lora(base_dir)
    taken = {"n": 0}

    def counting(module, batch):
        taken["n"] += 1
        return lm_record_losses(module, batch)

    result = train_dp(
        resumed_model,
        examples,
        make_batch=lambda b: sft_batch(b, pad),
        record_losses=counting,
        settings=settings,
        checkpoint_dir=tmp_path,
        checkpoint_every=4,
    )
    assert result.steps == planned
    assert taken["n"] <= planned - saved["steps"]  # only the remaining steps ran
    independent = RDPAccountant()
    for _ in range(planned):
        independent.step(noise_multiplier=1.1, sample_rate=3 / 12)
    assert result.epsilon == pytest.approx(independent.get_epsilon(1e-5), rel=1e-12)
    # The resumed run started from the checkpoint's weights, not from the fresh adapter.
    assert any(not torch.equal(p, before[n]) for n, p in lora_state(resumed_model).items())


@pytest.mark.slow
def test_a_checkpoint_of_another_training_is_refused(base_dir, tokenizer, tmp_path):
    examples = learnable_examples(tokenizer, n=12)
    pad = tokenizer.pad_token_id
    first = DPSettings(batch_size=3, epochs=2, learning_rate=1e-2, noise_multiplier=1.1, clip_norm=1.0, delta=1e-5)
    train_dp(
        lm_with_lora(base_dir),
        examples,
        make_batch=lambda b: sft_batch(b, pad),
        record_losses=lm_record_losses,
        settings=first,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
    )
    other = DPSettings(batch_size=3, epochs=2, learning_rate=1e-2, noise_multiplier=0.9, clip_norm=1.0, delta=1e-5)
    with pytest.raises(ValueError, match="belongs to another training"):
        train_dp(
            lm_with_lora(base_dir),
            examples,
            make_batch=lambda b: sft_batch(b, pad),
            record_losses=lm_record_losses,
            settings=other,
            checkpoint_dir=tmp_path,
            checkpoint_every=2,
        )


def test_an_empty_batch_is_a_noise_only_step_that_is_accounted(base_dir):
    model = lm_with_lora(base_dir)
    settings = DPSettings(
        batch_size=2, epochs=1, learning_rate=1e-2, noise_multiplier=1.0, clip_norm=1.0, delta=1e-5, mechanism_seed=0
    )
    trainer = DPTrainer(model, record_losses=lm_record_losses, settings=settings, records=10)
    before = lora_state(model)
    assert trainer.step(None) is None
    assert any(not torch.equal(p, before[n]) for n, p in lora_state(model).items())
    assert trainer.accountant.history == [(1.0, 0.2, 1)]
    trainer.close()


def plain_sgd_step(model, batch, record_losses, lr):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    optimizer.zero_grad()
    record_losses(model, batch).mean().backward()
    optimizer.step()


@pytest.mark.parametrize("kind", ["generator", "reward"])
def test_no_noise_and_huge_clip_equals_plain_sgd(base_dir, tokenizer, kind):
    pad = tokenizer.pad_token_id
    if kind == "generator":
        model = lm_with_lora(base_dir)
        batch = sft_batch(learnable_examples(tokenizer, n=4), pad)
        losses = lm_record_losses
    else:
        model = reward_with_lora(base_dir, tokenizer)
        batch = pair_batch(pair_records(tokenizer), pad)
        losses = pair_record_losses
    # Give lora_B non-zero values so every trainable tensor gets a gradient.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    reference = copy.deepcopy(model)
    initial = lora_state(model)
    lr = 0.5
    settings = DPSettings(
        batch_size=batch.n_records,
        epochs=1,
        learning_rate=lr,
        noise_multiplier=0.0,
        clip_norm=1e6,
        delta=1e-5,
        mechanism_seed=0,
    )
    trainer = DPTrainer(
        model,
        record_losses=losses,
        settings=settings,
        records=batch.n_records,
        optimizer_factory=lambda ps, rate: torch.optim.SGD(ps, lr=rate),
    )
    model.train()
    trainer.step(batch)
    trainer.close()
    reference.train()
    plain_sgd_step(reference, batch, losses, lr)

    dp_params = dict(model.named_parameters())
    for name, p in reference.named_parameters():
        if p.requires_grad:
            assert torch.allclose(dp_params[name], p, atol=1e-6, rtol=1e-4), name
    # The step really moved the adapter (and, for R, the score head).
    changed = [n for n, v in lora_state(model).items() if not torch.equal(v, initial[n])]
    assert any("lora_A" in n for n in changed) and any("lora_B" in n for n in changed)
    if kind == "reward":
        assert any("score" in n for n in changed)


def record_gradient(model, encoded, pad):
    """The gradient of one record's loss alone, by plain autograd (no Opacus)."""
    model.zero_grad()
    pair_record_losses(model, pair_batch([encoded], pad)).sum().backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_reward_proxy_clips_one_gradient_per_record_whatever_its_pair_count(base_dir, tokenizer):
    pad = tokenizer.pad_token_id
    model = reward_with_lora(base_dir, tokenizer)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    records = pair_records(tokenizer)  # 3 pairs, then 1 pair
    reference = copy.deepcopy(model)
    expected = [record_gradient(reference, r, pad) for r in records]

    clip = 1e-3  # far below the raw norms, so clipping is active for both records
    settings = DPSettings(
        batch_size=2, epochs=1, learning_rate=1e-3, noise_multiplier=0.0, clip_norm=clip, delta=1e-5, mechanism_seed=0
    )
    trainer = DPTrainer(model, record_losses=pair_record_losses, settings=settings, records=2)
    model.train()
    trainer.record_gradients(pair_batch(records, pad))

    names = {id(p): n for n, p in model.named_parameters()}
    raw_norms = torch.zeros(2)
    for p in trainer.params:
        # One per-record gradient per record, not one per row (the batch has 5 rows: 3 distinct sequences, then 2).
        assert p.grad_sample.shape == (2, *p.shape)
        for i in range(2):
            assert torch.allclose(p.grad_sample[i], expected[i][names[id(p)]], atol=1e-6, rtol=1e-4)
        raw_norms += p.grad_sample.reshape(2, -1).pow(2).sum(dim=1)
    raw_norms = raw_norms.sqrt()
    assert (raw_norms > 10 * clip).all()

    trainer.optimizer.step()
    factors = (clip / (raw_norms + 1e-6)).clamp(max=1.0)
    clipped = raw_norms * factors
    assert (clipped <= clip * (1 + 1e-5)).all()
    # Opacus' summed gradient is the sum of the two clipped record gradients: norm ≤ 2C.
    summed = torch.sqrt(sum(p.summed_grad.pow(2).sum() for p in trainer.params))
    assert summed <= 2 * clip * (1 + 1e-5)
    trainer.close()


def test_one_record_alone_contributes_at_most_the_clip_norm(base_dir, tokenizer):
    pad = tokenizer.pad_token_id
    model = reward_with_lora(base_dir, tokenizer)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    clip = 1e-3
    settings = DPSettings(
        batch_size=1, epochs=1, learning_rate=1e-3, noise_multiplier=0.0, clip_norm=clip, delta=1e-5, mechanism_seed=0
    )
    trainer = DPTrainer(model, record_losses=pair_record_losses, settings=settings, records=2)
    model.train()
    for record in pair_records(tokenizer):
        trainer.step(pair_batch([record], pad))
        summed = torch.sqrt(sum(p.summed_grad.pow(2).sum() for p in trainer.params))
        assert clip * 0.99 <= summed <= clip * (1 + 1e-5)
    trainer.close()


def test_the_noise_generator_lives_on_the_parameters_device(monkeypatch):
    # A CUDA parameter's noise drawn with a CPU generator raises in Opacus; the meta device
    # stands in for the accelerator here, since this machine has none.
    model = torch.nn.Linear(4, 2, device="meta")
    real_generator, made = torch.Generator, []

    def recording_generator(device=None):
        made.append(torch.device("cpu") if device is None else torch.device(device))
        return real_generator()  # a CPU one: meta has no generator, and nothing is drawn here

    monkeypatch.setattr(torch, "Generator", recording_generator)
    settings = DPSettings(batch_size=2, epochs=1, learning_rate=1e-2, noise_multiplier=1.0, clip_norm=1.0, delta=1e-5)
    trainer = DPTrainer(model, record_losses=lm_record_losses, settings=settings, records=4)
    assert made == [torch.device("meta")]
    assert trainer.optimizer.generator is not None
    trainer.close()


def test_parameters_on_several_devices_are_refused_before_training():
    cpu, meta = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2, device="meta"))
    assert parameters_device([cpu]) == torch.device("cpu")
    assert parameters_device([meta, meta]) == torch.device("meta")
    with pytest.raises(ValueError, match="on one device, found: cpu, meta"):
        parameters_device([cpu, meta])
    with pytest.raises(ValueError, match=r"on one device, found: none$"):
        parameters_device([])


def test_a_seeded_mechanism_is_reproducible_on_the_cpu():
    first = _mechanism_generator(5, offset=1, device=torch.device("cpu"))
    again = _mechanism_generator(5, offset=1)
    assert torch.equal(torch.rand(3, generator=first), torch.rand(3, generator=again))
    fresh = [_mechanism_generator(None, offset=1) for _ in range(2)]
    assert not torch.equal(torch.rand(3, generator=fresh[0]), torch.rand(3, generator=fresh[1]))


@pytest.mark.slow
def test_a_bf16_loaded_reward_model_trains_in_fp32_and_clips_each_record_to_c(base_dir, tokenizer):
    # On a GPU the base loads in bf16; PEFT lifts LoRA to fp32 but leaves its copy of the
    # score head in bf16, where per-record norms and clipping round to bf16.
    pad = tokenizer.pad_token_id
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base_dir), num_labels=1, dtype=torch.bfloat16, pad_token_id=pad
    )
    model = attach_lora(model, NO_DROPOUT, lora_target_modules(model), reward=True)
    assert any(p.dtype == torch.bfloat16 for p in model.parameters() if p.requires_grad)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    clip = 1e-3
    settings = DPSettings(
        batch_size=1, epochs=1, learning_rate=1e-3, noise_multiplier=0.0, clip_norm=clip, delta=1e-5, mechanism_seed=0
    )
    trainer = DPTrainer(model, record_losses=pair_record_losses, settings=settings, records=2)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)
    assert any(p.dtype == torch.bfloat16 for p in model.parameters() if not p.requires_grad)  # base untouched
    model.train()
    # In bf16 the clipped norm drifts either side of C by up to ~0.3 % within six steps.
    for record in pair_records(tokenizer) * 3:
        # One record per step: Opacus' summed gradient is exactly that record's clipped gradient.
        trainer.step(pair_batch([record], pad))
        assert all(p.grad_sample.dtype == torch.float32 for p in trainer.params)
        clipped = torch.sqrt(sum(p.summed_grad.double().pow(2).sum() for p in trainer.params))
        assert clip * 0.99 <= clipped <= clip * (1 + 1e-6)
    trainer.close()


def test_moving_a_batch_moves_every_tensor_and_keeps_every_field():
    batch = RecordBatch(
        inputs={"input_ids": torch.tensor([[1, 2], [3, 4], [5, 6]]), "attention_mask": torch.ones(3, 2)},
        row_record=torch.tensor([0, 0, 1]),
        n_records=2,
        tokens=5,
        labels=torch.tensor([[1, 2], [3, 4], [5, 6]]),
        pair_rows=torch.tensor([[0, 1]]),
    )
    # The meta device stands in for an accelerator: a field left behind stays on the CPU.
    moved = batch.to(torch.device("meta"))
    tensors = [*moved.inputs.values(), moved.row_record, moved.labels, moved.pair_rows]
    assert moved.inputs.keys() == batch.inputs.keys()
    assert all(t.device == torch.device("meta") for t in tensors)
    assert (moved.n_records, moved.tokens, moved.labels.shape, moved.pair_rows.shape) == (2, 5, (3, 2), (1, 2))
    on_cpu = batch.to(CPU)
    assert torch.equal(on_cpu.labels, batch.labels) and torch.equal(on_cpu.pair_rows, batch.pair_rows)
    # The generator's batches have no pairs and the reward proxy's no labels: None stays None.
    bare = RecordBatch(inputs={}, row_record=torch.tensor([0]), n_records=1, tokens=1).to(CPU)
    assert bare.labels is None and bare.pair_rows is None


def test_the_fp32_hook_casts_floating_point_tensors_only():
    ids, scale = torch.tensor([[5, 7]]), 0.5
    cast = _inputs_to_fp32(torch.nn.Identity(), (torch.ones(2, dtype=torch.bfloat16), ids, None, scale))
    assert cast[0].dtype == torch.float32
    # Token ids stay integers (an embedding refuses floats), and non-tensors pass as they are.
    assert cast[1] is ids and cast[2] is None and cast[3] is scale


def linear_batch(records):
    """Each record is an int i and one row x = (i, 1); two tokens a record, to tell sums apart."""
    x = torch.tensor([[float(i), 1.0] for i in records])
    return RecordBatch(
        inputs={"x": x}, row_record=torch.arange(len(records)), n_records=len(records), tokens=2 * len(records)
    )


def linear_losses(module, batch):
    return (module(batch.inputs["x"]).squeeze(-1) - 1.0).pow(2)


def linear_model(seed=0):
    # A real layer under real Opacus, small enough that a whole training takes milliseconds.
    torch.manual_seed(seed)
    return torch.nn.Linear(2, 1)


def test_epsilon_is_zero_before_any_step_and_opacus_rdp_after():
    settings = settings_with(mechanism_seed=0)
    trainer = DPTrainer(linear_model(), record_losses=linear_losses, settings=settings, records=4)
    assert trainer.epsilon(1e-5) == 0.0  # no step taken, nothing released
    trainer.step(None)
    independent = RDPAccountant()
    independent.step(noise_multiplier=1.0, sample_rate=0.5)
    assert trainer.epsilon(1e-5) == independent.get_epsilon(1e-5)
    trainer.close()


def test_train_dp_uses_the_optimizer_factory_it_is_given():
    made = []

    def sgd(params, lr):
        made.append((list(params), lr))
        return torch.optim.SGD(params, lr=lr)

    model = linear_model()
    train_dp(
        model,
        list(range(4)),
        make_batch=linear_batch,
        record_losses=linear_losses,
        settings=settings_with(learning_rate=0.25, mechanism_seed=0),
        optimizer_factory=sgd,
    )
    assert len(made) == 1 and made[0][1] == 0.25
    assert [id(p) for p in made[0][0]] == [id(p) for p in model.parameters()]


def test_train_dp_reports_the_batches_it_sampled_and_the_losses_tokens_time_and_epsilon_of_them():
    n, seed = 8, 11
    settings = settings_with(batch_size=3, epochs=2, mechanism_seed=seed)
    steps = planned_steps(2, 3, n)  # 6
    seen, losses_seen, moved_to = [], [], []

    class TrackedBatch(RecordBatch):
        def to(self, device):
            moved_to.append(device)
            return super().to(device)

    def make_batch(records):
        seen.append(list(records))
        return TrackedBatch(**vars(linear_batch(records)))

    def record_losses(module, batch):
        losses = linear_losses(module, batch)
        losses_seen.append(float(losses.detach().mean()))
        return losses

    before = time.perf_counter()
    # No checkpoint folder: the interval must then never matter, even at every step.
    result = train_dp(
        linear_model(),
        list(range(n)),
        make_batch=make_batch,
        record_losses=record_losses,
        settings=settings,
        checkpoint_every=1,
    )
    elapsed = time.perf_counter() - before

    # The Poisson batches come from the seed's own stream (the noise takes seed + 1).
    expected = UniformWithReplacementSampler(
        num_samples=n, sample_rate=3 / 8, generator=torch.Generator().manual_seed(seed), steps=steps
    )
    batches = [indices for indices in expected if indices]
    assert seen == batches and len(batches) >= 2  # at least two batches, so the totals are sums
    assert moved_to == [CPU] * len(batches)  # each batch goes to the parameters' device
    assert (result.records, result.steps, result.sample_rate) == (n, steps, 3 / 8)
    assert result.losses == losses_seen and all(type(loss) is float for loss in result.losses)
    assert result.tokens == sum(2 * len(b) for b in batches)
    assert 0 < result.seconds <= elapsed
    independent = RDPAccountant()
    for _ in range(steps):
        independent.step(noise_multiplier=1.0, sample_rate=3 / 8)
    assert result.epsilon == pytest.approx(independent.get_epsilon(1e-5), rel=1e-12)


def test_a_finished_training_leaves_its_last_checkpoint_before_the_end(tmp_path):
    settings = settings_with(batch_size=2, epochs=2, mechanism_seed=0)  # 4 records: 4 steps
    args = dict(make_batch=linear_batch, record_losses=linear_losses, settings=settings, checkpoint_dir=tmp_path)
    result = train_dp(linear_model(), list(range(4)), **args, checkpoint_every=2)
    assert result.steps == 4
    # Steps 2 and 4 are multiples of 2; the final state is the job's output, not a checkpoint.
    assert torch.load(tmp_path / "dp-state.pt", weights_only=False)["steps"] == 2


@pytest.mark.parametrize(
    "other",
    [
        {"records": 5},  # batch 8: q = 1 and one step per epoch either way
        {"epochs": 3},
        {"batch_size": 7, "records": 12},  # two steps an epoch either way, q = 7/12 for 8/12
        {"noise_multiplier": 0.9},
        {"clip_norm": 2.0},
    ],
    ids=lambda other: "+".join(other),
)
def test_a_checkpoint_is_refused_by_a_training_that_differs_in_any_accounted_figure(tmp_path, other):
    first = {"records": 4, "epochs": 2, "batch_size": 8, "noise_multiplier": 1.0, "clip_norm": 1.0}
    if "batch_size" in other:
        first |= {"records": 12}

    def run(figures):
        figures = first | figures
        settings = settings_with(
            **{k: figures[k] for k in ("epochs", "batch_size", "noise_multiplier", "clip_norm")}, mechanism_seed=0
        )
        return train_dp(
            linear_model(),
            list(range(figures["records"])),
            make_batch=linear_batch,
            record_losses=linear_losses,
            settings=settings,
            checkpoint_dir=tmp_path,
            checkpoint_every=1,
        )

    run({})
    assert run({}).steps == planned_steps(first["epochs"], first["batch_size"], first["records"])  # its own resumes
    with pytest.raises(ValueError, match="belongs to another training"):
        run(other)


def test_row_gradients_are_summed_per_record_in_their_own_dtype_and_device():
    rows = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    summed = sum_rows_per_record(rows, torch.tensor([0, 0, 1]), 2)
    assert summed.dtype == torch.float64 and torch.equal(summed, torch.tensor([[4.0, 6.0], [5.0, 6.0]]).double())
    # Rows on an accelerator (meta stands in) with the record index still on the CPU.
    on_meta = sum_rows_per_record(torch.ones(3, 2, device="meta"), torch.tensor([0, 0, 1]), 2)
    assert on_meta.device == torch.device("meta") and on_meta.shape == (2, 2)


class OneHeadUsed(torch.nn.Module):
    """Two trainable heads, of which the loss reaches only the first."""

    def __init__(self):
        super().__init__()
        self.used, self.unused = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)

    def forward(self, x):
        return self.used(x)


def test_parameters_the_batch_never_reached_get_one_zero_row_per_record_in_their_dtype():
    previous = torch.get_default_dtype()
    # Under a float64 default, zeros without an explicit dtype would not match the fp32 parameters.
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        model = OneHeadUsed()
        trainer = DPTrainer(model, record_losses=linear_losses, settings=settings_with(mechanism_seed=0), records=4)
        trainer.record_gradients(None)
        assert all(
            p.grad_sample.shape == (0, *p.shape) and p.grad_sample.dtype == torch.float32 for p in trainer.params
        )
        trainer.record_gradients(linear_batch([1, 2, 3]))
        for p in model.unused.parameters():
            assert p.grad_sample.dtype == torch.float32 and torch.equal(p.grad_sample, torch.zeros(3, *p.shape))
        assert all(p.grad_sample.shape == (3, *p.shape) for p in model.used.parameters())
        assert any(p.grad_sample.abs().sum() > 0 for p in model.used.parameters())
        trainer.optimizer.step()  # Opacus takes the zero rows: its per-record norm spans all parameters
        trainer.close()
    finally:
        torch.set_default_dtype(previous)


def test_the_zero_rows_are_made_on_the_parameters_device(monkeypatch):
    real_generator = torch.Generator
    # Meta stands in for an accelerator; it has no generator, and no noise is drawn here.
    monkeypatch.setattr(torch, "Generator", lambda device=None: real_generator())
    model = OneHeadUsed().to("meta")
    trainer = DPTrainer(model, record_losses=linear_losses, settings=settings_with(), records=4)
    trainer.record_gradients(None)
    assert all(p.grad_sample.device == torch.device("meta") for p in trainer.params)
    trainer.record_gradients(linear_batch([1, 2]).to(torch.device("meta")))
    assert all(p.grad_sample.device == torch.device("meta") and p.grad_sample.shape[0] == 2 for p in trainer.params)
    trainer.close()


def test_record_losses_of_the_wrong_shape_or_a_second_backward_pass_are_refused():
    def one_loss(module, batch):
        return linear_losses(module, batch).sum()

    def backward_twice(module, batch):
        linear_losses(module, batch).sum().backward()  # a first per-row gradient, accumulated
        return linear_losses(module, batch)

    for record_losses, error, message in [
        (one_loss, ValueError, r"^record_losses returned shape \(\), want \(2,\)$"),
        (backward_twice, RuntimeError, "^gradient accumulation across backward passes is not supported under DP$"),
    ]:
        trainer = DPTrainer(linear_model(), record_losses=record_losses, settings=settings_with(), records=4)
        with pytest.raises(error, match=message):
            trainer.record_gradients(linear_batch([0, 1]))
        trainer.close()


def test_a_trainer_refuses_a_model_it_cannot_clip_per_record():
    frozen = linear_model().requires_grad_(False)
    with pytest.raises(ValueError, match=r"^model has no trainable parameters \(LoRA not attached\?\)$"):
        DPTrainer(frozen, record_losses=linear_losses, settings=settings_with(), records=4)
    # Batch norm mixes the records of a batch: no per-record gradient exists (Opacus' strict check).
    mixing = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    with pytest.raises(NotImplementedError):
        DPTrainer(mixing, record_losses=linear_losses, settings=settings_with(), records=4)


def test_the_noise_is_averaged_over_the_expected_batch_and_drawn_from_the_seeds_second_stream():
    model, seed = linear_model(), 5
    before = [p.detach().clone() for p in model.parameters()]
    settings = settings_with(batch_size=8, learning_rate=1.0, noise_multiplier=2.0, clip_norm=0.5, mechanism_seed=seed)
    # 4 records with batch 8: every record is in every batch, so 4 rows are expected, not 8.
    trainer = DPTrainer(
        model, record_losses=linear_losses, settings=settings, records=4, optimizer_factory=torch.optim.SGD
    )
    assert trainer.optimizer.expected_batch_size == 4
    trainer.step(None)  # noise only: with plain SGD at rate 1 the update is -noise / 4
    stream = torch.Generator().manual_seed(seed + 1)  # seed + 0 is the sampler's
    for p, old in zip(model.parameters(), before, strict=True):
        noise = torch.normal(0.0, 2.0 * 0.5, p.shape, generator=stream)
        assert torch.allclose(old - p.detach(), noise / 4, atol=1e-6)
    trainer.close()
