"""JSONL in and out, with errors that name file, line and field and never quote a record."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .failure import JobInputError

_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", float: "a number", int: "an integer"}


def display_name(path: Path) -> str:
    """`<channel>/<file>`: enough to find the file, and the same on every machine."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _is_type(value: Any, expected: type) -> bool:
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def check_field(record: Mapping[str, Any], name: str, expected: type, file: str, line: int) -> Any:
    if name not in record:
        raise JobInputError(file, line, name, "missing")
    value = record[name]
    if not _is_type(value, expected):
        raise JobInputError(file, line, name, f"must be {_TYPE_NAMES.get(expected, expected.__name__)}")
    return value


def read_jsonl(
    path: Path, required: Mapping[str, type] | None = None, *, name: str | None = None
) -> Iterator[tuple[int, dict]]:
    """Yields (1-based line number, object) for each non-blank line; extra fields are kept."""
    label = name or display_name(path)
    if not path.is_file():
        raise JobInputError(label, None, None, "file not found")
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise JobInputError(label, line_no, None, "not valid UTF-8") from None
            if line_no == 1:
                text = text.lstrip("\ufeff")
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                # The decoder's message can quote the line; say only what is wrong.
                raise JobInputError(label, line_no, None, "not valid JSON") from None
            if not isinstance(value, dict):
                raise JobInputError(label, line_no, None, "must be a JSON object")
            for field_name, expected in (required or {}).items():
                check_field(value, field_name, expected, label, line_no)
            yield line_no, value


def read_unique(path: Path, required: Mapping[str, type], *, name: str | None = None) -> list[dict]:
    """Reads records with a string `id`, refusing a repeated id (the id is how stages join)."""
    label = name or display_name(path)
    seen: set[str] = set()
    records = []
    for line_no, record in read_jsonl(path, {"id": str, **required}, name=label):
        if record["id"] in seen:
            raise JobInputError(label, line_no, "id", "repeats an earlier line's id")
        seen.add(record["id"])
        records.append(record)
    if not records:
        raise JobInputError(label, None, None, "holds no records")
    return records


def read_records(path: Path, *, name: str | None = None) -> list[dict]:
    """The normalised train/test shape `{id, prompt, response}` (extra fields dropped)."""
    return [
        {"id": r["id"], "prompt": r["prompt"], "response": r["response"]}
        for r in read_unique(path, {"prompt": str, "response": str}, name=name)
    ]


def read_prompts(path: Path, *, name: str | None = None) -> list[dict]:
    """`{id, prompt}` records: seeds and queries."""
    return [{"id": r["id"], "prompt": r["prompt"]} for r in read_unique(path, {"prompt": str}, name=name)]


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Writes under a temporary name and renames, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def write_candidates(folder: Path, items: Sequence[Mapping[str, Any]], candidates: Iterable[list[str]]) -> int:
    """`candidates.jsonl` for Score: each item's id and prompt with its candidate texts, in item order."""
    return write_jsonl(
        folder / "candidates.jsonl",
        (
            {"id": item["id"], "prompt": item["prompt"], "candidates": c}
            for item, c in zip(items, candidates, strict=True)
        ),
    )


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
