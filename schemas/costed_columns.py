"""Costed calls by column (type ``ai.call.costed.columns.v1``): the pricing stage's message form.

One message carries the costed calls of one prompt type as columns instead of a list of
``ai.call.costed.v1`` dicts::

    {"type": "ai.call.costed.columns.v1", "n": 500,
     "columns": {"event_id": ["…", …], "input_tokens": [812, …], "prompt_type": "chat",
                 "total_usd": ["0.004120", …], "version": 1764990000000, …}}

A column is a list of ``n`` values, or one value shared by every call (written for a column
whose values are all equal: the prompt type, the version, the pricing time ...). A column left
out holds its field's default for every call, as a key left out of the compact row form does
(zero tokens, ``success`` true, no amount: an absent amount means unknown, never $0). Names are
the fields of :class:`~schemas.events.AICallEvent` and :class:`~schemas.costed.CallCost`, plus
``version``, ``priced_at`` and, for replays, ``mode``.

Why: the calls are read twice (live statistics and the ClickHouse sink); by column they take
half the bytes, and readers check and convert a whole column at once
(:mod:`consumers.clickhouse.column_rows`, :mod:`stream_processors.stats.columns`) instead of
reading ~40 keys of a dict per call. :meth:`CostedColumns.items` gives the row form back, so a
message whose columns fail a reader's bulk checks is read call by call, each bad call with its
own reason. Readers accept both forms (:func:`decode_costed`).
"""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Any, NamedTuple, Sequence

import msgspec

from schemas.codec import DecodeError, dumps, items_of, loads
from schemas.costed import COSTED_TYPE, ZERO, CallCost
from schemas.events import AICallEvent
from schemas.fast_decode import DecodedEvent

COLUMNS_TYPE = "ai.call.costed.columns.v1"

EVENT_FIELDS = tuple(AICallEvent.model_fields)
COST_FIELDS = tuple(CallCost.model_fields)
CALL_FIELDS = ("version", "priced_at", "mode")
#: Cost fields holding amounts (``Decimal`` in memory, plain decimal text on the wire).
AMOUNT_FIELDS = tuple(name for name in COST_FIELDS if name.endswith("_usd") or name == "credits")
#: Columns never written as one shared value: equal values of these may differ as JSON
#: (``{"a": 1} == {"a": True}``), or are floats.
_ALWAYS_LISTS = frozenset({"metadata", "extra_usage", "latency_ms"})
_EVENT_VALUES, _COST_VALUES = operator.itemgetter(*EVENT_FIELDS), operator.itemgetter(*COST_FIELDS)
_EVENT, _COST_DICT = operator.attrgetter("event"), operator.attrgetter("cost.__dict__")
_struct_values = msgspec.structs.astuple


def _event_values(event: AICallEvent | DecodedEvent) -> tuple:
    """The event's field values in :data:`EVENT_FIELDS` order, from a struct or a model."""
    return _struct_values(event) if type(event) is DecodedEvent else _EVENT_VALUES(event.__dict__)


class PricedCall(NamedTuple):
    """A validated event with its cost, before it is written: what the pricing stage keeps."""

    event: AICallEvent | DecodedEvent
    cost: CallCost
    version: int
    priced_at: datetime


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in (AICallEvent, CallCost):
        for name, info in model.model_fields.items():
            if not info.is_required():
                out[name] = info.default_factory() if info.default_factory is not None else info.default
    out["mode"] = None
    return out


#: What a left-out column holds (required fields have no entry: they are always written).
DEFAULTS = _defaults()


def _amount_texts(values: Sequence[Any]) -> list[str | None]:
    """Plain decimal text of each amount (``None`` stays ``None``). Pricing's empty buckets are
    the one :data:`~schemas.costed.ZERO` and are told by identity: formatting a Decimal costs
    ~1,100 instructions, and a third of the amounts are empty buckets."""
    texts = [None if v is None else "0" if v is ZERO else str(v) for v in values]
    if "E" in "".join([t for t in texts if t is not None]):  # "0E-9" for some zeros: as plain_decimal
        texts = [t if t is None or "E" not in t else format(v, "f") for t, v in zip(texts, values)]
    return texts


def _put(columns: dict[str, Any], name: str, values: Sequence[Any]) -> None:
    """Add a column: left out when every value is the default, one value when all are equal."""
    first = values[0]
    # a second value unlike the first (most columns) settles it without comparing every value
    if (name == "event_id" or (len(values) > 1 and values[1] is not first and values[1] != first)
            or values.count(first) != len(values)):
        columns[name] = values
    elif name in DEFAULTS and first == DEFAULTS[name] and type(first) is type(DEFAULTS[name]):
        return
    else:
        columns[name] = values if name in _ALWAYS_LISTS else first


def encode_costed(calls: Sequence[PricedCall], mode: str | None = None) -> bytes:
    """One ``ai.call.costed.columns.v1`` message of ``calls`` (at least one); ``mode`` marks a
    replay's calls (``reprice`` or ``repair``)."""
    if not calls:
        raise ValueError("a costed message needs at least one call")
    columns: dict[str, Any] = {}
    # transposed in C: one tuple of field values per call, then one tuple per field
    try:  # the worker's calls: all structs, whose fields are in EVENT_FIELDS order
        rows = list(map(_struct_values, map(_EVENT, calls)))
    except TypeError:
        rows = list(map(_event_values, map(_EVENT, calls)))
    for name, values in zip(EVENT_FIELDS, zip(*rows)):
        _put(columns, name, values)
    for name, values in zip(COST_FIELDS, zip(*map(_COST_VALUES, map(_COST_DICT, calls)))):
        _put(columns, name, _amount_texts(values) if name in AMOUNT_FIELDS else values)
    _put(columns, "version", [call.version for call in calls])
    _put(columns, "priced_at", [call.priced_at for call in calls])
    if mode is not None:
        columns["mode"] = mode
    return dumps({"type": COLUMNS_TYPE, "n": len(calls), "columns": columns})


def encode_costed_messages(calls: Sequence[PricedCall], max_calls: int, max_bytes: int,
                           mode: str | None = None) -> list[tuple[int, bytes]]:
    """``(calls in it, message)`` of ``calls`` in order, at most ``max_calls`` calls and
    ``max_bytes`` bytes each: a message above ``max_bytes`` is cut in half until it fits (a call
    carries its prompt and response, so 500 calls may be megabytes). A single call larger than
    ``max_bytes`` goes alone."""
    pending = [calls[start:start + max_calls] for start in range(0, len(calls), max_calls)]
    out: list[tuple[int, bytes]] = []
    while pending:
        chunk = pending.pop(0)
        value = encode_costed(chunk, mode)
        if len(value) > max_bytes and len(chunk) > 1:
            half = len(chunk) // 2
            pending[0:0] = [chunk[:half], chunk[half:]]
        else:
            out.append((len(chunk), value))
    return out


class NotBulk(ValueError):
    """A column is not in the form the pricing stage writes: a reader reads the calls one by one."""


def typed(values: list[Any], types: frozenset, what: str) -> list[Any]:
    """``values`` when each is of one of ``types`` (exactly: ``bool`` is not ``int``), else
    :class:`NotBulk` naming ``what``."""
    if not set(map(type, values)) <= types:
        raise NotBulk(what)
    return values


class CostedColumns:
    """A decoded columns message; :meth:`column` gives a column as a list of ``n`` values."""

    __slots__ = ("n", "columns")

    def __init__(self, n: int, columns: dict[str, Any]):
        self.n, self.columns = n, columns

    def column(self, name: str, default: Any = None) -> list[Any]:
        """The column's ``n`` values; ``default`` for each call when it was left out."""
        values = self.columns.get(name, _MISSING)
        if values is _MISSING:
            return [default] * self.n
        return values if type(values) is list else [values] * self.n

    def items(self) -> list[dict[str, Any]]:
        """The calls in the ``ai.call.costed.v1`` row form (columns left out stay left out)."""
        n = self.n
        present = {name: self.column(name) for name in self.columns}
        event_names = [k for k in present if k not in COST_FIELDS and k not in CALL_FIELDS]
        cost_names = [k for k in present if k in COST_FIELDS]
        out = []
        for i in range(n):
            item: dict[str, Any] = {
                "type": COSTED_TYPE,
                "event": {k: present[k][i] for k in event_names},
                "cost": {k: present[k][i] for k in cost_names},
            }
            for name in CALL_FIELDS:
                if name in present:
                    item[name] = present[name][i]
            out.append(item)
        return out


_MISSING = object()


def decode_costed(raw: bytes | str) -> CostedColumns | list[Any]:
    """A costed message: :class:`CostedColumns`, or the items of a row-form message (a batch
    envelope, a list or one object, as :func:`schemas.codec.unpack`). Raises ``DecodeError``."""
    obj = loads(raw)
    if isinstance(obj, dict) and obj.get("type") == COLUMNS_TYPE:
        n, columns = obj.get("n"), obj.get("columns")
        if type(n) is not int or n < 0 or not isinstance(columns, dict):
            raise DecodeError("a columns message needs 'n' (a count) and a 'columns' object")
        for name, values in columns.items():
            if type(values) is list and len(values) != n:
                raise DecodeError(f"column {name!r} has {len(values)} values, not n = {n}")
        return CostedColumns(n, columns)
    return items_of(obj)
