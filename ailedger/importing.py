"""Backfill historic logs (JSONL or CSV) through the same path as live events.

Rows may be ``ai.call.v1`` events or older shapes that an upcaster knows (``ai.call.v0``, the
design documents' usage logs). A row without ``event_id`` gets a deterministic one derived
from its content, so importing the same file twice stores every call once.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from schemas.codec import loads, parse_event
from schemas.events import AICallEvent
from schemas.upcasting import LEGACY_NAMESPACE

_INT_FIELDS = {"input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
               "prompt_tokens", "completion_tokens", "response_tokens", "tokens_input", "tokens_output"}
_FLOAT_FIELDS = {"latency_ms", "response_time_ms", "duration_ms"}
_BOOL_FIELDS = {"success", "cached", "error"}


@dataclass
class ImportReport:
    accepted: list[AICallEvent] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _csv_value(key: str, value: str) -> Any:
    if value == "":
        return None
    if key in _INT_FIELDS:
        return int(value)
    if key in _FLOAT_FIELDS:
        return float(value)
    if key in _BOOL_FIELDS:
        return value.strip().lower() in ("1", "true", "t", "yes", "y")
    if key == "metadata":
        return orjson.loads(value)
    return value


def read_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line or row number, decoded object) of a .jsonl/.json-lines or .csv file."""
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    values = {k: _csv_value(k, v) for k, v in row.items() if k}
                    yield number, {k: v for k, v in values.items() if v is not None}
                except ValueError as exc:
                    yield number, ValueError(f"bad value: {exc}")
        return
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, loads(line)
                except ValueError as exc:
                    yield number, exc


def with_event_id(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("event_id") or obj.get("id") or obj.get("type", "ai.call.v1") != "ai.call.v1":
        return obj
    fingerprint = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return {**obj, "event_id": str(uuid.uuid5(LEGACY_NAMESPACE, fingerprint))}


def parse_file(path: Path) -> ImportReport:
    report = ImportReport()
    for number, obj in read_rows(path):
        if isinstance(obj, Exception):
            report.rejected.append((number, str(obj)))
            continue
        try:
            report.accepted.append(parse_event(with_event_id(obj) if isinstance(obj, dict) else obj))
        except ValueError as exc:
            report.rejected.append((number, str(exc)))
    return report
