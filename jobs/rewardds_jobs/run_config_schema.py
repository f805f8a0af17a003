"""The run config's JSON Schema, the jobs' one source of ranges for their stage configs.

`run-config.schema.json` beside this module is generated from core/config/run-config.ts by
`npm run gen:config` (never edited by hand), so TypeScript and the jobs cannot disagree on
what a key allows. Reasons returned here quote a config value, never a record.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_FILE = Path(__file__).with_name("run-config.schema.json")


def _is_integer(_checker: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker: Any, value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# JSON Schema counts 3.0 as an integer and NaN as a number (Python's json reads NaN); a job
# wants neither, so the two types are narrowed as zod narrows them.
_Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number}),
)


@functools.cache
def run_config_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def key_schema(path: str) -> dict[str, Any]:
    """The schema of one run-config key, by its dotted path (`synthesis.candidates`)."""
    node = run_config_schema()
    for part in path.split("."):
        try:
            node = node["properties"][part]
        except KeyError:
            raise KeyError(f"the run config has no key {path}") from None
    return node


def interval(schema: dict[str, Any]) -> str:
    """`[2, 64]`, `(0, 1]`: the bounds of a numeric schema, open where they are exclusive."""
    lo_open = "exclusiveMinimum" in schema
    hi_open = "exclusiveMaximum" in schema
    lo = schema.get("exclusiveMinimum", schema.get("minimum", "-inf"))
    hi = schema.get("exclusiveMaximum", schema.get("maximum", "inf"))
    return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


_TYPE_NAMES = {"integer": "an integer", "number": "a finite number", "array": "a list", "string": "a string"}
_RANGE = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


def _allowed(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = _TYPE_NAMES.get(schema.get("type", ""), schema.get("type", "any value"))
    return f"{kind} in {interval(schema)}" if _RANGE & schema.keys() else kind


def _reason(error: ValidationError) -> str:
    value = error.instance
    if error.validator == "type":
        expected = _TYPE_NAMES.get(error.validator_value, error.validator_value)
        return f"must be {expected}, got {type(value).__name__}"
    if error.validator in _RANGE:
        return f"must be in {interval(error.schema)}, got {value}"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "minItems":
        return "must be a non-empty list" if error.validator_value == 1 else f"needs {error.validator_value} items"
    if error.validator == "anyOf":
        return f"must be {' or '.join(map(_allowed, error.validator_value))}"
    if error.validator == "const":
        return f"must be {json.dumps(error.validator_value)}"
    return f"is not allowed by the run config schema ({error.validator})"


def violation(path: str, value: Any) -> tuple[str, str] | None:
    """Why `value` may not stand for run-config key `path`: (index suffix such as `[1]`, reason), or None."""
    schema = key_schema(path)
    # Of a union (δ: "auto" or a number), check against the branch of the value's own type, so a
    # number out of range is told its range rather than that it is not "auto".
    branches = [b for b in schema.get("anyOf", []) if _Validator(b).is_type(value, b.get("type", "null"))]
    if len(branches) == 1:
        schema = branches[0]
    error = best_match(_Validator(schema).iter_errors(value))
    if error is None:
        return None
    return "".join(f"[{i}]" for i in error.absolute_path), _reason(error)
