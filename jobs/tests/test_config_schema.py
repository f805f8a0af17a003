"""Stage configs take their ranges from the run config's JSON Schema (generated from run-config.ts)."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from rewardds_jobs.config import RUN_CONFIG_KEYS, STAGE_CONFIGS, parse_stage_config
from rewardds_jobs.failure import JobInputError
from rewardds_jobs.run_config_schema import SCHEMA_FILE, key_schema, violation

# Stage keys with no run-config key: σ (privacy plan), the refine round (state machine), the
# inference batch (stage-config.ts). Each is checked by hand in its dataclass.
STAGE_OWN_KEYS = {
    "train-generator": {"noiseMultiplier"},
    "train-reward": {"noiseMultiplier"},
    "build-pairs": {"batchSize"},
    "score": {"batchSize"},
    "refine": {"round"},
    "audit-canaries": {"candidates", "batchSize"},
}
REQUIRED = {"train-generator": {"noiseMultiplier": 1.0, "delta": 1e-5}, "synthesize-queries": {"queries": 10}}
REQUIRED["train-reward"] = REQUIRED["train-generator"]


def _stage_keys(stage: str) -> set[str]:
    keys = set(STAGE_CONFIGS[stage].KEYS)
    if "lora" in keys:
        keys = (keys - {"lora"}) | {"lora.r", "lora.alpha", "lora.dropout"}
    return keys


@pytest.mark.parametrize("stage", sorted(STAGE_CONFIGS))
def test_every_stage_key_is_mapped_to_a_run_config_key_or_is_the_stages_own(stage):
    mapped = set(RUN_CONFIG_KEYS[stage])
    assert mapped | STAGE_OWN_KEYS.get(stage, set()) == _stage_keys(stage)
    assert not mapped & STAGE_OWN_KEYS.get(stage, set())
    for source in RUN_CONFIG_KEYS[stage].values():
        key_schema(source)  # raises for a key the run config does not have


@pytest.mark.parametrize("stage", sorted(STAGE_CONFIGS))
def test_dataclass_defaults_are_the_run_config_defaults(stage):
    cls = STAGE_CONFIGS[stage]
    by_field = {snake: camel for camel, snake in cls.KEYS.items()}
    defaults = parse_stage_config(stage, REQUIRED.get(stage, {}))
    for f in fields(cls):
        camel = by_field[f.name]
        if camel == "lora":
            for name in ("r", "alpha", "dropout"):
                source = RUN_CONFIG_KEYS[stage][f"lora.{name}"]
                assert getattr(defaults.lora, name) == key_schema(source)["default"], f"{stage}: lora.{name}"
            continue
        source = RUN_CONFIG_KEYS[stage].get(camel)
        # Required keys (σ, δ, M) have no job-side default; the ones given above are not defaults.
        if source is None or "default" not in key_schema(source) or camel in REQUIRED.get(stage, {}):
            continue
        value = getattr(defaults, f.name)
        actual = list(value) if isinstance(value, tuple) else value
        assert actual == key_schema(source)["default"], f"{stage}: {camel}"


@pytest.mark.parametrize(
    ("stage", "raw", "message"),
    [
        # The drift this module ended: TypeScript has always refused a single candidate.
        ("sample-candidates", {"candidates": 1}, "config.json: candidates: must be in [2, 64], got 1"),
        ("refine", {"candidates": 1}, "config.json: candidates: must be in [2, 64], got 1"),
        ("train-target", {"lora": {"dropout": 0.95}}, "config.json: lora.dropout: must be in [0, 0.9], got 0.95"),
        (
            "train-reward",
            {**REQUIRED["train-reward"], "learningRate": 0},
            "config.json: learningRate: must be in (0, 1]",
        ),
        (
            "train-generator",
            {**REQUIRED["train-generator"], "delta": 1},
            "config.json: delta: must be in (0, 1), got 1",
        ),
        ("train-generator", {"noiseMultiplier": 1, "delta": "auto"}, "config.json: delta: must be the number"),
        (
            "train-generator",
            {**REQUIRED["train-generator"], "lossOn": "prompt"},
            "config.json: lossOn: must be one of response, prompt-and-response",
        ),
        ("train-reward", {**REQUIRED["train-reward"], "lossOn": "response"}, "config.json: lossOn: unknown key"),
        ("build-pairs", {"maxLength": 8}, "config.json: maxLength: must be in [16, 32768], got 8"),
        ("synthesize-queries", {"queries": 5, "fewShot": 9}, "config.json: fewShot: must be in [0, 8], got 9"),
        ("synthesize-queries", {"queries": 5.0}, "config.json: queries: must be an integer, got float"),
        ("sample-candidates", {"topP": float("nan")}, "config.json: topP: must be a finite number, got float"),
        ("evaluate", {"metrics": []}, "config.json: metrics: must be a non-empty list"),
        ("evaluate", {"seed": True}, "config.json: seed: must be an integer, got bool"),
    ],
)
def test_a_value_out_of_the_run_config_range_is_refused_with_its_key(stage, raw, message):
    with pytest.raises(JobInputError) as error:
        parse_stage_config(stage, raw)
    assert str(error.value).startswith(message)


def test_the_edges_of_a_range_are_accepted():
    assert parse_stage_config("sample-candidates", {"candidates": 2}).candidates == 2
    assert parse_stage_config("sample-candidates", {"candidates": 64, "topP": 1}).top_p == 1
    assert parse_stage_config("train-target", {"lora": {"dropout": 0.9}}).lora.dropout == 0.9


def test_the_committed_schema_and_the_loader_agree():
    raw = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    synthesis = raw["properties"]["synthesis"]["properties"]
    assert key_schema("synthesis.candidates") == synthesis["candidates"]
    assert (synthesis["candidates"]["minimum"], synthesis["candidates"]["maximum"]) == (2, 64)
    lr = raw["properties"]["target"]["properties"]["learningRate"]
    assert lr["exclusiveMinimum"] == 0 and violation("target.learningRate", 0) is not None
    assert violation("target.learningRate", lr["maximum"]) is None
    assert violation("privacy.delta", "auto") is None
    with pytest.raises(KeyError, match=r"synthesis\.candidate"):
        key_schema("synthesis.candidate")


def test_the_schema_file_ships_inside_the_package():
    # jobs/Dockerfile copies rewardds_jobs/ whole; the schema must live there, not beside it.
    assert SCHEMA_FILE.parent.name == "rewardds_jobs" and SCHEMA_FILE.is_file()
