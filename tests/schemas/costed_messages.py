"""Columns messages of demo traffic, and the same messages with one value changed (for the
bulk readers' tests: whatever the value, the bulk path must read what the call-by-call path reads)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from ailedger.demo_traffic import generate
from schemas.codec import event_to_dict
from schemas.costed_columns import COST_FIELDS, EVENT_FIELDS, encode_costed
from stream_processors.costing import cost_batch
from stream_processors.pricing import load_catalog

COLUMN_NAMES = (*EVENT_FIELDS, *COST_FIELDS, "version", "priced_at", "mode")
_ID = str(uuid.UUID(int=7))
#: Values a column may hold in a message not written by the pricing stage.
ODD_VALUES: tuple[Any, ...] = (
    None, "", "x", 0, -1, 1.5, True, False, 2**64 - 1, "NaN", "Infinity", "1E+2", "0.1234567890123", "-0.5",
    "2026-01-01T00:00:00+02:00", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123456", "2026-13-01T00:00:00.000000Z",
    _ID.upper(), "{" + _ID + "}", f"{_ID},{_ID}", "a\nb", "chat", {}, {"k": 1}, [1],
)


def demo_messages(n: int = 120, seed: int = 4, cache_writes: bool = True) -> list[bytes]:
    """One columns message per prompt type of ``n`` priced demo calls (without cache writes: every
    ``cache_write_usd`` is ``"0"``, or ``None`` for an unpriced call)."""
    events = [e if cache_writes else e.model_copy(update={"cache_write_tokens": 0}) for e in generate(n, seed=seed)]
    batch = cost_batch([event_to_dict(e) for e in events], load_catalog(None))
    return [encode_costed(calls) for calls in batch.by_prompt_type.values()]


def odd_values(message: bytes, name: str) -> list[Any]:
    """:data:`ODD_VALUES`, and two of the column's own values joined as one (``"a,b"``, ``"a\\nb"``)."""
    column = orjson.loads(message)["columns"].get(name)
    first = column[0] if isinstance(column, list) else column
    joined = [f"{first},{first}", f"{first}\n{first}"] if isinstance(first, str) else []
    return [*ODD_VALUES, *joined]


def with_value(message: bytes, name: str, index: int, value: Any) -> bytes:
    """``message`` with call ``index``'s value of column ``name`` replaced by ``value``."""
    obj = orjson.loads(message)
    n, columns = obj["n"], obj["columns"]
    column = columns.get(name)
    column = list(column) if isinstance(column, list) else [column] * n
    column[index % n] = value
    columns[name] = column
    return orjson.dumps(obj)
