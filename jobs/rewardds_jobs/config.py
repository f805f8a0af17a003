"""The stage configs: one frozen dataclass per stage, exactly the keys of docs/job-contract.md.

`config.json` uses the run config's camelCase keys; each dataclass's KEYS maps them to its
snake_case fields (derived from the field names), and any other key is refused. A renamed field
therefore renames its key, which tests/test_config_schema.py catches against the run config. A value
that comes from the run config is checked against that key's range in the run config's JSON
Schema (RUN_CONFIG_KEYS says which key), so the jobs allow exactly what the run config allows;
only the keys the run config does not have are checked here by hand. Every check names
`config.json: <key>` so a user can fix the file without reading this source.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from .failure import JobInputError
from .metrics_text import compile_answer_pattern
from .run_config_schema import key_schema, violation

CONFIG_FILE = "config.json"
METRIC_NAMES = ("rougeL", "bleu", "exactMatch")
_REQUIRED = object()


def _fail(key: str, reason: str) -> JobInputError:
    return JobInputError(CONFIG_FILE, None, key, reason)


# Where each stage's config.json values come from in the run config (core/config/stage-config.ts
# builds them so): stage key -> run-config key. A stage key missing here has no run-config key
# (σ and the round from the privacy plan and the state machine, the inference batch size) and
# is checked in its dataclass.
def _model_keys(section: str) -> dict[str, str]:
    keys = ("epochs", "batchSize", "learningRate", "lora.r", "lora.alpha", "lora.dropout", "maxLength")
    return {key: f"{section}.{key}" for key in keys}


_SAMPLING_KEYS = {key: f"synthesis.{key}" for key in ("temperature", "topP", "maxNewTokens")}
_PROXY_PRIVACY_KEYS = {"clipNorm": "privacy.clipNorm", "delta": "privacy.delta"}

RUN_CONFIG_KEYS: dict[str, dict[str, str]] = {
    "train-generator": {
        "seed": "seed",
        **_model_keys("generator"),
        **_PROXY_PRIVACY_KEYS,
        "lossOn": "generator.lossOn",
    },
    "train-reward": {"seed": "seed", **_model_keys("reward"), **_PROXY_PRIVACY_KEYS},
    "train-target": {
        "seed": "seed",
        **_model_keys("target"),
        "microBatchSize": "target.microBatchSize",
        "gradientCheckpointing": "target.gradientCheckpointing",
    },
    "build-pairs": {"seed": "seed", "maxNewTokens": "synthesis.maxNewTokens", "maxLength": "generator.maxLength"},
    "synthesize-queries": {
        "seed": "seed",
        "queries": "synthesis.queries",
        **_SAMPLING_KEYS,
        "fewShot": "synthesis.fewShot",
        "attemptsPerQuery": "synthesis.attemptsPerQuery",
        "queryPrompt": "synthesis.queryPrompt",
    },
    "sample-candidates": {"seed": "seed", "candidates": "synthesis.candidates", **_SAMPLING_KEYS},
    "score": {"maxLength": "reward.maxLength"},
    "refine": {
        "seed": "seed",
        "candidates": "synthesis.candidates",
        **_SAMPLING_KEYS,
        "critiqueMaxNewTokens": "refinement.critiqueMaxNewTokens",
    },
    "evaluate": {
        "seed": "seed",
        "maxNewTokens": "evaluation.maxNewTokens",
        "metrics": "evaluation.metrics",
        "answerPattern": "evaluation.answerPattern",
    },
    "audit-canaries": {"seed": "seed", "maxLength": "generator.maxLength"},
}

_ABSENT = object()


def _value_at(raw: Mapping[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _check_run_config_ranges(stage: str, raw: Mapping[str, Any]) -> None:
    for key, source in RUN_CONFIG_KEYS[stage].items():
        value = _value_at(raw, key)
        if value is _ABSENT:
            continue
        found = violation(source, value)
        if found is not None:
            index, reason = found
            raise _fail(key + index, reason)


def _check_int(key: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise _fail(key, f"must be between {lo} and {hi}, got {value}")


def _check_num(key: str, value: Any, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(key, f"must be a finite number, got {type(value).__name__}")
    too_low = value <= lo if lo_open else value < lo
    too_high = value >= hi if hi_open else value > hi
    if too_low or too_high:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise _fail(key, f"must be in {left}{lo}, {hi}{right}, got {value}")


def _config_dataclass(cls):
    """A frozen dataclass with KEYS: each field under its camelCase name (max_new_tokens ← maxNewTokens), the only
    keys config.json may use."""
    cls = dataclass(frozen=True)(cls)
    cls.KEYS = {_camel(f.name): f.name for f in fields(cls)}
    return cls


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.capitalize() for word in rest)


@_config_dataclass
class LoraConfig:
    # Ranges: the run config's `<model>.lora.*`, checked by the stage that holds the LoRA.
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05

    KEYS: ClassVar[dict[str, str]]  # set by _config_dataclass

    @classmethod
    def from_json(cls, raw: Any) -> LoraConfig:
        if not isinstance(raw, Mapping):
            raise _fail("lora", "must be an object")
        return cls(**_map_keys(raw, cls.KEYS, prefix="lora."))


def _map_keys(raw: Mapping[str, Any], keys: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in keys:
            raise _fail(prefix + key, "unknown key")
        out[keys[key]] = value
    return out


class _StageConfig:
    """Shared parsing: camelCase JSON → fields, unknown keys refused, run-config ranges checked,
    required keys enforced."""

    KEYS: ClassVar[dict[str, str]]  # set by _config_dataclass

    @classmethod
    def from_json(cls, raw: Any, stage: str):
        if not isinstance(raw, Mapping):
            raise JobInputError(CONFIG_FILE, None, None, "must hold a JSON object")
        values = _map_keys(raw, cls.KEYS)
        if "lora" in values:
            values["lora"] = LoraConfig.from_json(values["lora"])
        _check_run_config_ranges(stage, raw)
        by_field = {camel: snake for camel, snake in cls.KEYS.items()}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.default is _REQUIRED and f.name not in values:
                camel = next(c for c, s in by_field.items() if s == f.name)
                raise _fail(camel, "missing (this stage needs it)")
        return cls(**values)


def _required() -> Any:
    return field(default=_REQUIRED)


@dataclass(frozen=True)
class _LoraTrainConfig(_StageConfig):
    """The seed and the run config's `<model>` keys (_model_keys), for the stages that fine-tune a LoRA.
    The defaults are the proxy models'; train-target sets its own."""

    seed: int = 0
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 5e-4
    lora: LoraConfig = field(default_factory=LoraConfig)
    max_length: int = 1024

    def __post_init__(self) -> None:
        if not isinstance(self.lora, LoraConfig):
            raise _fail("lora", "must be an object")


@_config_dataclass
class ProxyTrainConfig(_LoraTrainConfig):
    """train-generator and train-reward. σ and δ come from the privacy plan, so they have no default."""

    noise_multiplier: float = _required()
    delta: float = _required()
    clip_norm: float = 1.0

    def __post_init__(self) -> None:
        # σ = 0 is allowed only to show, in tests, that DP-SGD without noise is plain clipped SGD.
        _check_num("noiseMultiplier", self.noise_multiplier, 0, 1000)
        # The run config also allows "auto"; a job accounts only with the δ the plan resolved.
        if isinstance(self.delta, bool) or not isinstance(self.delta, (int, float)):
            raise _fail("delta", f"must be the number the privacy plan resolved, got {type(self.delta).__name__}")
        super().__post_init__()


@_config_dataclass
class GeneratorTrainConfig(ProxyTrainConfig):
    """train-generator: a proxy training that may also learn the prompts (pre-query synthesis samples them)."""

    loss_on: str = "response"


@_config_dataclass
class TargetTrainConfig(_LoraTrainConfig):
    """`batchSize` examples per optimizer step, run `microBatchSize` at a time (gradient accumulation)."""

    batch_size: int = 16
    learning_rate: float = 2e-4
    max_length: int = 2048
    micro_batch_size: int = 4
    gradient_checkpointing: bool = True


# The inference batch of build-pairs, score and audit-canaries is set by stage-config.ts, not by the run config.
_INFERENCE_BATCH_MAX = 4096


@dataclass(frozen=True)
class _InferenceConfig(_StageConfig):
    """The batch and length of the stages that run a model over fixed texts."""

    batch_size: int = 8
    max_length: int = 1024

    def __post_init__(self) -> None:
        _check_int("batchSize", self.batch_size, 1, _INFERENCE_BATCH_MAX)


@_config_dataclass
class BuildPairsConfig(_InferenceConfig):
    seed: int = 0
    max_new_tokens: int = 512


@dataclass(frozen=True)
class _SamplingConfig(_StageConfig):
    """The seed and the run config's `synthesis` sampling keys, for the stages that sample text."""

    seed: int = 0
    temperature: float = 1.0
    top_p: float = 0.7
    max_new_tokens: int = 512


@_config_dataclass
class SynthesizeQueriesConfig(_SamplingConfig):
    queries: int = _required()
    few_shot: int = 2
    attempts_per_query: float = 4
    query_prompt: str = "instruction"


@_config_dataclass
class SampleCandidatesConfig(_SamplingConfig):
    candidates: int = 6


@_config_dataclass
class ScoreConfig(_InferenceConfig):
    """score: the inference batch and length alone (no sampling, so no seed)."""


@_config_dataclass
class RefineConfig(_SamplingConfig):
    round: int = 1
    candidates: int = 6
    critique_max_new_tokens: int = 256

    def __post_init__(self) -> None:
        # Rounds count from 1 up to the most the run config allows.
        _check_int("round", self.round, 1, key_schema("refinement.rounds")["maximum"])


@_config_dataclass
class EvaluateConfig(_StageConfig):
    seed: int = 0
    max_new_tokens: int = 512
    metrics: tuple[str, ...] = METRIC_NAMES
    # A regex with one group that extracts the checkable answer (a code, a dose, a date);
    # when given, each row also carries answerAccuracy.
    answer_pattern: str | None = None

    def __post_init__(self) -> None:
        # Frozen: normalise a JSON list to a tuple without a second constructor.
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.answer_pattern is not None:
            if not isinstance(self.answer_pattern, str) or not self.answer_pattern:
                raise _fail("answerPattern", "must be a non-empty string")
            try:
                compile_answer_pattern(self.answer_pattern)
            except ValueError as error:
                raise _fail("answerPattern", str(error)) from None


# Random candidate codes each canary secret is ranked against (docs/privacy.md): 10,000 lets the
# exposure estimate reach log2(10,001) ≈ 13.3 bits.
AUDIT_CANDIDATES = 10_000


@_config_dataclass
class AuditCanariesConfig(_InferenceConfig):
    seed: int = 0
    candidates: int = AUDIT_CANDIDATES

    def __post_init__(self) -> None:
        _check_int("candidates", self.candidates, 1, 1_000_000)
        super().__post_init__()


STAGE_CONFIGS: dict[str, type] = {
    "train-generator": GeneratorTrainConfig,
    "train-reward": ProxyTrainConfig,
    "train-target": TargetTrainConfig,
    "build-pairs": BuildPairsConfig,
    "synthesize-queries": SynthesizeQueriesConfig,
    "sample-candidates": SampleCandidatesConfig,
    "score": ScoreConfig,
    "refine": RefineConfig,
    "evaluate": EvaluateConfig,
    "audit-canaries": AuditCanariesConfig,
}


def parse_stage_config(stage: str, raw: Any):
    try:
        cls = STAGE_CONFIGS[stage]
    except KeyError:
        raise JobInputError(CONFIG_FILE, None, None, f"no config for stage {stage!r}") from None
    return cls.from_json(raw, stage)


def load_stage_config(stage: str, path: Path | None):
    """Reads and validates `config.json`; no file means every key takes its default."""
    if path is None or not path.exists():
        return parse_stage_config(stage, {})
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JobInputError(CONFIG_FILE, None, None, "not valid JSON") from None
    return parse_stage_config(stage, raw)
