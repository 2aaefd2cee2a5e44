"""Costed calls -> ``ai_calls`` rows, and the replay-safe version check.

Rows are tuples in :data:`AI_CALLS_COLUMNS` order, built straight from the wire dicts (no model
validation on the hot path: the worker validated every event). Their values are JSON-ready
(strings, numbers, booleans, ``None``), so a flush is one ``JSONCompactColumns`` insert that the
ClickHouse engine parses (:func:`encode_rows`); no per-value Python objects (``UUID``,
``Decimal``, ``datetime``) are built for the common, canonical wire form:

* ``event_id``: the canonical lowercase UUID text (anything else ``uuid.UUID`` accepts is
  normalised to it);
* times: ``YYYY-MM-DD hh:mm:ss.fff`` in UTC, truncated to the millisecond (as before);
* money: plain decimal text, exact. Text with at most 26 integer digits and at most the
  column's scale of fractional digits goes as it is; anything else (more digits, exponents,
  numbers) is converted exactly as clickhouse-connect did (``int(Decimal * 10**scale)`` at 38
  digits, i.e. truncated to the scale). Never a float.

A row is inserted only when its ``event_id`` is new or its version is higher than the stored
one; ``is_new`` and ``prev_*`` tell the rollups what the row adds. A row from a ``repair``
replay is inserted only when the call is missing or stored unpriced and now priced.

A row carries one extra trailing element, its mode (``live``, ``reprice`` or ``repair``), which
:func:`encode_rows` leaves out of the insert.
"""

from __future__ import annotations

import decimal
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

import orjson
from clickhouse_connect.driver.binding import format_query_value

from consumers.clickhouse.store import Store

AI_CALLS_COLUMNS = (
    "event_id", "version", "occurred_at", "account_id", "user_id", "prompt_type", "operation", "provider",
    "model", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
    "total_tokens", "latency_ms", "success", "error_type", "error_message", "cached", "source", "task_id",
    "trace_id", "span_id", "metadata", "prompt", "response", "priced", "cost_input_usd", "cost_output_usd",
    "cost_cache_usd", "cost_reasoning_usd", "cost_other_usd", "cost_total_usd", "credits", "price_version",
    "price_source", "unpriced_reason", "priced_at", "kafka_partition", "kafka_offset",
    "is_new", "prev_priced", "prev_cost_total_usd", "prev_credits",
)
_IDX = {name: i for i, name in enumerate(AI_CALLS_COLUMNS)}
IS_NEW, PREV_PRICED, PREV_COST, PREV_CREDITS = (_IDX[c] for c in ("is_new", "prev_priced", "prev_cost_total_usd",
                                                                   "prev_credits"))
EVENT_ID, VERSION, OCCURRED_AT, ACCOUNT_ID = (_IDX[c] for c in ("event_id", "version", "occurred_at", "account_id"))
PRICED = _IDX["priced"]
_MODE = len(AI_CALLS_COLUMNS)  #: the index of a row's trailing mode element (is_new, prev_* before it)

#: Settings of the row insert: exact float parsing (``latency_ms`` as Python would read it).
INSERT_SETTINGS = {"precise_float_parsing": 1}

_MONEY_SCALE, _CREDITS_SCALE = 12, 6  # Decimal(38, 12) and Decimal(38, 6) in migrations.AI_CALLS
_MONEY_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,25})(?:\.[0-9]{1,12})?")
_CREDITS_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,31})(?:\.[0-9]{1,6})?")
_UUID_LIST = re.compile(r"[0-9a-f,-]*")
_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}")
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_fromisoformat = datetime.fromisoformat
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


class RowError(ValueError):
    pass


def _ts(value: Any) -> str:
    """``YYYY-MM-DD hh:mm:ss.fff`` in UTC, truncated to the millisecond."""
    if type(value) is str:
        n = len(value)
        # the wire form (orjson, UTC): 2026-01-31T12:00:00.123456Z or 2026-01-31T12:00:00Z
        if (n == 27 or n == 20) and value[-1] == "Z" and value[10] == "T" and (n == 20 or value[19] == "."):
            _fromisoformat(value)  # validates (raises ValueError)
            return f"{value[:10]} {value[11:23]}" if n == 27 else f"{value[:10]} {value[11:19]}.000"
        value = _fromisoformat(value)
    elif not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    value = value.astimezone(timezone.utc)
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"


def _exact(value: Any, scale: int) -> str:
    """Decimal text at ``scale`` as clickhouse-connect wrote it (truncated, 38 digits)."""
    if isinstance(value, float):
        value = Decimal(value)
    with decimal.localcontext() as ctx:
        ctx.prec = 38
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        scaled = int(number * (10 ** scale))
    if abs(scaled) >= 10 ** 38:
        raise ValueError(f"amount out of range for Decimal(38, {scale}): {value!r}")
    digits = str(abs(scaled)).rjust(scale + 1, "0")
    return f"{'-' if scaled < 0 else ''}{digits[:-scale]}.{digits[-scale:]}"


def _money(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str and _MONEY_TEXT.fullmatch(value):
        return value
    return _exact(value, _MONEY_SCALE)


def _credits(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str and _CREDITS_TEXT.fullmatch(value):
        return value
    return _exact(value, _CREDITS_SCALE)


def _add(a: Any, b: Any) -> str | None:
    """cache_read + cache_write (``None`` if either is), as ``Decimal`` addition did."""
    if a is None or b is None:
        return None
    if type(b) is str and b == "0" and type(a) is str and len(a) <= 28 and _MONEY_TEXT.fullmatch(a):
        return a  # x + 0 == x exactly (at most 28 digits: the default context does not round it)
    if type(a) is str and a == "0" and type(b) is str and len(b) <= 28 and _MONEY_TEXT.fullmatch(b):
        return b
    return _exact(Decimal(a) + Decimal(b), _MONEY_SCALE)


def _uuid(value: Any) -> str:
    if type(value) is str and _UUID_TEXT.fullmatch(value):
        return value
    return str(uuid.UUID(str(value)))


#: ``(prompt_type) -> (store_row, store_text)``; the default stores rows without prompt/response.
ConfigLookup = Callable[[str], tuple[bool, bool]]


def default_config(prompt_type: str) -> tuple[bool, bool]:
    return True, False


def costed_to_row(item: dict[str, Any], partition: int, offset: int, store_text: bool) -> tuple:
    """One ``ai_calls`` row, ending with its mode."""
    try:
        e = item["event"]
        c = item["cost"]
        get = e.get
        cget = c.get
        i, cr, cw, o, r = (int(get(k, 0)) for k in _TOKENS)
        metadata = get("metadata")
        return (
            _uuid(e["event_id"]), int(item["version"]), _ts(e["occurred_at"]), e["account_id"],
            get("user_id") or "", get("prompt_type") or "default", get("operation") or "", e["provider"],
            e["model"], i, cr, cw, o, r, i + cr + cw + o + r, float(get("latency_ms", 0.0)),
            bool(get("success", True)), get("error_type") or "", get("error_message") or "",
            bool(get("cached", False)), get("source") or "", get("task_id") or "", get("trace_id") or "",
            get("span_id") or "", orjson.dumps(metadata).decode() if metadata else "",
            (get("prompt") or "") if store_text else "", (get("response") or "") if store_text else "",
            bool(c["priced"]), _money(cget("input_usd")), _money(cget("output_usd")),
            _add(cget("cache_read_usd"), cget("cache_write_usd")), _money(cget("reasoning_usd")),
            _money(cget("other_usd")), _money(cget("total_usd")), _credits(cget("credits")),
            cget("price_version") or "", cget("price_source") or "", cget("unpriced_reason") or "",
            _ts(item["priced_at"]), partition, offset,
            1, False, None, None,
            item.get("mode", "live"),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError, orjson.JSONEncodeError) as exc:
        raise RowError(f"costed call cannot be stored: {type(exc).__name__}: {exc}") from exc


#: The insert format of :func:`encode_rows`: one JSON array per column.
ROWS_FORMAT = "JSONCompactColumns"


def encode_rows(rows: list[tuple]) -> bytes:
    """:data:`ROWS_FORMAT` bytes of rows, their trailing mode element left out: the rows are
    transposed into columns and encoded in one ``orjson`` call, ~3x cheaper than one call per
    row (``JSONCompactEachRow``), and the engine parses both at the same cost."""
    return orjson.dumps(list(zip(*rows))[:_MODE])


def keep_latest(rows: Iterable[tuple]) -> list[tuple]:
    """Within one flush, keep only the highest version of each event_id."""
    best: dict[str, tuple] = {}
    for row in rows:
        current = best.get(row[EVENT_ID])
        if current is None or row[VERSION] > current[VERSION]:
            best[row[EVENT_ID]] = row
    return list(best.values())


#: A gap in the rows' times that splits the version lookup: more than this between two hours' starts.
_MIN_GAP = timedelta(hours=6)

#: Ids per version query: 37 bytes each, the query stays below ClickHouse's max_query_size (256 KiB).
_IDS_PER_QUERY = 5000


def _stored_versions(store: Store, accounts: list[str], rows: list[tuple]) -> dict[str, tuple]:
    """:func:`stored_versions` of some rows."""
    return stored_versions(store, accounts, [r[EVENT_ID] for r in rows], min(r[OCCURRED_AT] for r in rows),
                           max(r[OCCURRED_AT] for r in rows))


def stored_versions(store: Store, accounts: list[str], ids: list[str], lo: str, hi: str) -> dict[str, tuple]:
    """``event_id -> (version, priced, cost_total_usd, credits)`` of the stored latest versions of
    the calls ``ids`` of ``accounts`` between the times ``lo`` and ``hi``.

    The ids go into the query as one string literal, split by the engine: each was checked or
    normalised to canonical UUID text by :func:`_uuid`, so it needs no escaping (binding them as
    an ``Array(UUID)`` parameter escaped every character in Python, and a literal list costs the
    SQL parser more). Times are the rows' millisecond text; accounts are escaped. The text is
    sent as it is (:meth:`Store.raw_rows`): 4.6 -> 1.9 µs per id with 5,000 ids."""
    joined = ",".join(ids)
    if _UUID_LIST.fullmatch(joined) is None or _TIME_TEXT.fullmatch(lo) is None or _TIME_TEXT.fullmatch(hi) is None:
        raise ValueError("event ids must be canonical UUIDs and times canonical text")  # never, by construction
    found = store.raw_rows(
        "SELECT toString(event_id), max(version), argMax(priced, version), "
        "toString(argMax(cost_total_usd, version)), toString(argMax(credits, version)) FROM ai_calls "
        f"WHERE account_id IN {format_query_value(accounts)} "
        f"AND occurred_at BETWEEN toDateTime64('{lo}', 3, 'UTC') AND toDateTime64('{hi}', 3, 'UTC') "
        f"AND event_id IN (SELECT toUUID(arrayJoin(splitByChar(',', '{joined}')))) GROUP BY event_id"
    )
    return {r[0]: (int(r[1]), bool(r[2]), r[3], r[4]) for r in found}


#: Most time ranges the version lookup of one flush is cut into (each a query of its own).
_MAX_TIME_RANGES = 8


def time_ranges(rows: list[tuple]) -> list[list[tuple]]:
    """The rows in groups for the version lookup: cut where six hours or more without rows lie
    between two rows' hours, at the widest such gaps, into at most :data:`_MAX_TIME_RANGES`
    groups. A lookup's time range covers every account's rows in it, so one late call in a flush
    of live calls widened it from seconds to days: with 10 million stored calls over a week, a
    lookup of 5,000 ids took 121-142 ms instead of 28-39 (``benchmarks/bench_version_lookup.py``).
    The late call now gets a query of its own (34-37 ms for both). Each query costs a few
    milliseconds even on a small table, so shorter gaps (spread traffic: a backfill, the
    benchmarks' floods) are not cut."""
    by_hour: dict[str, list[tuple]] = {}
    for row in rows:
        by_hour.setdefault(row[OCCURRED_AT][:13], []).append(row)  # "YYYY-MM-DD hh"
    if len(by_hour) == 1:
        return [rows]
    hours = sorted(by_hour)
    starts = [datetime.fromisoformat(hour + ":00") for hour in hours]
    gaps = sorted(((starts[i + 1] - starts[i], i) for i in range(len(hours) - 1)
                   if starts[i + 1] - starts[i] > _MIN_GAP), reverse=True)
    cuts = sorted(i for _, i in gaps[:_MAX_TIME_RANGES - 1])
    groups, first = [], 0
    for last in [*cuts, len(hours) - 1]:
        groups.append([row for hour in hours[first:last + 1] for row in by_hour[hour]])
        first = last + 1
    return groups


def apply_stored_versions(store: Store, rows: list[tuple]) -> list[tuple]:
    """Drop rows whose version is already stored; mark re-ratings with the replaced figures.

    Returns the rows to insert: new calls' rows as they are, re-rated calls' rows as copies with
    the replaced figures (a retried flush sees the buffer unchanged)."""
    if not rows:
        return rows
    stored = {}
    for group in time_ranges(rows):
        for start in range(0, len(group), _IDS_PER_QUERY):
            chunk = group[start:start + _IDS_PER_QUERY]
            stored.update(_stored_versions(store, sorted({r[ACCOUNT_ID] for r in chunk}), chunk))
    return against_stored(rows, stored)


def against_stored(rows: list[tuple], stored: dict[str, tuple]) -> list[tuple]:
    """The rows to insert, given the stored versions of their calls (:func:`stored_versions`)."""
    if not stored:
        return rows
    out = []
    for row in rows:
        previous = stored.get(row[EVENT_ID])
        if previous is None:
            out.append(row)
            continue
        version, priced, cost, credits = previous
        if version >= row[VERSION]:
            continue  # replayed duplicate: already stored at this version or later
        if row[_MODE] == "repair" and (priced or not row[PRICED]):
            continue  # repair fills gaps only: this call is stored and priced (or still unpriceable)
        out.append(row[:IS_NEW] + (0, bool(priced), cost, credits) + row[_MODE:])  # is_new, prev_*: the last four
    return out
