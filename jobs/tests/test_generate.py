"""One generation function: reproducible by seed on CPU, adapters on and off, shapes per request."""

from __future__ import annotations

import pytest
import torch

from rewardds_jobs.generate import Generator, ModelSpec, generate, use_vllm

PROMPTS = ["What helps a sore throat?", "How do bonds work?", "Define APR."]


@pytest.fixture(scope="module")
def g_model(tiny_base, generator_adapter):
    with Generator(ModelSpec(tiny_base, generator_adapter), batch_size=2) as model:
        yield model


def test_cpu_never_picks_vllm(monkeypatch):
    monkeypatch.delenv("REWARDDS_GENERATION", raising=False)
    assert use_vllm() is False


@pytest.mark.slow
def test_same_seed_same_texts_other_seed_other_texts(g_model):
    options = dict(n=2, temperature=1.0, top_p=0.9, max_new_tokens=8)
    first = g_model.generate(PROMPTS, seed=11, **options)
    again = g_model.generate(PROMPTS, seed=11, **options)
    other = g_model.generate(PROMPTS, seed=12, **options)
    assert [len(row) for row in first] == [2, 2, 2]
    assert first == again
    assert first != other


@pytest.mark.slow
def test_one_shot_function_matches_a_loaded_generator(tiny_base, generator_adapter, g_model):
    options = dict(n=2, temperature=1.0, top_p=0.7, max_new_tokens=6, seed=3)
    assert generate(ModelSpec(tiny_base, generator_adapter), PROMPTS, batch_size=2, **options) == g_model.generate(
        PROMPTS, **options
    )


def test_adapter_changes_the_output_and_can_be_switched_off(tiny_base, g_model):
    options = dict(n=3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5)
    with_adapter = g_model.generate(PROMPTS, **options)
    without = g_model.generate(PROMPTS, use_adapter=False, **options)
    plain = generate(ModelSpec(tiny_base), PROMPTS, batch_size=2, **options)
    assert without == plain
    assert with_adapter != without


@pytest.mark.slow
def test_greedy_gives_one_completion_and_refuses_more(g_model):
    rows = g_model.complete(PROMPTS, greedy=True, max_new_tokens=4)
    assert [len(r) for r in rows] == [1, 1, 1]
    assert all(isinstance(r[0].finished, bool) for r in rows)
    with pytest.raises(ValueError):
        g_model.generate(PROMPTS, greedy=True, n=2)
    assert g_model.stats.sequences > 0 and g_model.stats.new_tokens > 0


@pytest.mark.slow
def test_named_adapters_on_one_base_match_separate_loads(tiny_target_base, target_adapter, tmp_path):
    from conftest import save_lora_adapter

    other = save_lora_adapter(tiny_target_base, tmp_path / "other", seed=9)
    options = dict(n=2, temperature=1.0, top_p=1.0, max_new_tokens=6, seed=2)
    with Generator(
        ModelSpec(tiny_target_base, name="base"), batch_size=2, adapters={"round-0": target_adapter, "round-1": other}
    ) as shared:
        got = {label: shared.generate(PROMPTS, adapter=label, **options) for label in ("round-1", "round-0")}
        got["base"] = shared.generate(PROMPTS, use_adapter=False, **options)
        with pytest.raises(ValueError):
            shared.generate(PROMPTS, adapter="round-7", **options)
    assert got["round-0"] == generate(ModelSpec(tiny_target_base, target_adapter), PROMPTS, batch_size=2, **options)
    assert got["round-1"] == generate(ModelSpec(tiny_target_base, other), PROMPTS, batch_size=2, **options)
    assert got["base"] == generate(ModelSpec(tiny_target_base), PROMPTS, batch_size=2, **options)
    assert got["round-0"] != got["round-1"]


def test_an_engine_that_cannot_start_falls_back_to_transformers_and_says_why(
    monkeypatch, caplog, tiny_base, generator_adapter
):
    import rewardds_jobs.generate as generation

    def broken_engine(spec, adapters):
        raise RuntimeError("Engine core initialization failed\nsee the root cause above")

    monkeypatch.setattr(generation, "use_vllm", lambda: True)
    monkeypatch.setattr(generation, "_start_vllm", broken_engine)
    with (
        caplog.at_level("WARNING", logger="rewardds_jobs.generate"),
        Generator(ModelSpec(tiny_base, generator_adapter), batch_size=2) as model,
    ):
        texts = model.generate(PROMPTS[:1], n=1, greedy=True, max_new_tokens=3, seed=0)
    assert model.backend == "transformers"
    assert model.fallback_reason == "RuntimeError: Engine core initialization failed"
    assert "falling back to batched transformers" in caplog.text
    assert "RuntimeError: Engine core initialization failed" in caplog.text
    assert len(texts) == 1 and len(texts[0]) == 1


def test_a_merged_adapter_generates_what_the_unmerged_one_does(tiny_base, generator_adapter, g_model):
    with Generator(ModelSpec(tiny_base, generator_adapter), batch_size=2, merged=True) as merged:
        assert not any("lora" in name for name, _ in merged._model.named_parameters())
        ids = torch.tensor([[5, 6, 7, 8, 9]])
        with torch.no_grad():
            assert torch.allclose(merged._model(input_ids=ids).logits, g_model._model(input_ids=ids).logits, atol=1e-5)
        assert merged.generate(PROMPTS, greedy=True, max_new_tokens=8) == g_model.generate(
            PROMPTS, greedy=True, max_new_tokens=8
        )
        # Merged, the base is gone: asking for it is an error, not a silent adapter answer.
        with pytest.raises(ValueError, match="merged"):
            merged.generate(PROMPTS, use_adapter=False, max_new_tokens=2)


def test_merging_needs_exactly_one_adapter(tiny_base):
    with pytest.raises(ValueError, match="exactly one adapter"):
        Generator(ModelSpec(tiny_base), merged=True)
