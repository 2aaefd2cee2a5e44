"""Costed calls -> ``ai_calls`` rows, and the replay-safe version check.

Rows are tuples in :data:`AI_CALLS_COLUMNS` order, built straight from the wire dicts (no model
validation on the hot path: the worker validated every event). A row is inserted only when its
``event_id`` is new or its version is higher than the stored one; ``is_new`` and ``prev_*``
tell the rollups what the row adds. A row from a ``repair`` replay is inserted only when the
call is missing or stored unpriced and now priced.

While in the sink, a row carries one extra trailing element, its mode (``live``, ``reprice``
or ``repair``), which :func:`apply_stored_versions` strips before the insert.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

import orjson

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


class RowError(ValueError):
    pass


def _ts(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


#: ``(prompt_type) -> (store_row, store_text)``; the default stores rows without prompt/response.
ConfigLookup = Callable[[str], tuple[bool, bool]]


def default_config(prompt_type: str) -> tuple[bool, bool]:
    return True, False


def costed_to_row(item: dict[str, Any], partition: int, offset: int, store_text: bool) -> list[Any]:
    """One ``ai_calls`` row (a list, so the version check can fill ``is_new``/``prev_*``)."""
    try:
        e = item["event"]
        c = item["cost"]
        tokens = [int(e.get(k, 0)) for k in
                  ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")]
        metadata = e.get("metadata") or {}
        return [
            uuid.UUID(str(e["event_id"])), int(item["version"]), _ts(e["occurred_at"]), e["account_id"],
            e.get("user_id") or "", e.get("prompt_type") or "default", e.get("operation") or "", e["provider"],
            e["model"], *tokens, sum(tokens), float(e.get("latency_ms", 0.0)), bool(e.get("success", True)),
            e.get("error_type") or "", e.get("error_message") or "", bool(e.get("cached", False)),
            e.get("source") or "", e.get("task_id") or "", e.get("trace_id") or "", e.get("span_id") or "",
            orjson.dumps(metadata).decode() if metadata else "",
            (e.get("prompt") or "") if store_text else "", (e.get("response") or "") if store_text else "",
            bool(c["priced"]), _money(c.get("input_usd")), _money(c.get("output_usd")),
            _add(_money(c.get("cache_read_usd")), _money(c.get("cache_write_usd"))), _money(c.get("reasoning_usd")),
            _money(c.get("other_usd")), _money(c.get("total_usd")), _money(c.get("credits")),
            c.get("price_version") or "", c.get("price_source") or "", c.get("unpriced_reason") or "",
            _ts(item["priced_at"]), partition, offset,
            1, False, None, None,
            item.get("mode", "live"),
        ]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise RowError(f"costed call cannot be stored: {type(exc).__name__}: {exc}") from exc


def keep_latest(rows: Iterable[list[Any]]) -> list[list[Any]]:
    """Within one flush, keep only the highest version of each event_id."""
    best: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        current = best.get(row[EVENT_ID])
        if current is None or row[VERSION] > current[VERSION]:
            best[row[EVENT_ID]] = row
    return list(best.values())


def apply_stored_versions(store: Store, rows: list[list[Any]]) -> list[list[Any]]:
    """Drop rows whose version is already stored; mark re-ratings with the replaced figures.

    Returns rows ready for the insert (the trailing mode element removed)."""
    if not rows:
        return rows
    accounts = sorted({r[ACCOUNT_ID] for r in rows})
    lo = min(r[OCCURRED_AT] for r in rows)
    hi = max(r[OCCURRED_AT] for r in rows)
    names, found = store.rows(
        "SELECT event_id, max(version), argMax(priced, version), argMax(cost_total_usd, version), "
        "argMax(credits, version) FROM ai_calls "
        "WHERE account_id IN {accounts:Array(String)} "
        "AND occurred_at BETWEEN {lo:DateTime64(3, 'UTC')} AND {hi:DateTime64(3, 'UTC')} "
        "AND event_id IN {ids:Array(UUID)} GROUP BY event_id",
        {"accounts": accounts, "lo": lo, "hi": hi, "ids": [r[EVENT_ID] for r in rows]},
    )
    stored = {r[0]: r[1:] for r in found}
    out = []
    for buffered in rows:
        mode, row = buffered[-1], buffered[:-1]  # a copy: a retried flush sees the buffer unchanged
        previous = stored.get(row[EVENT_ID])
        if previous is None:
            out.append(row)
            continue
        version, priced, cost, credits = previous
        if version >= row[VERSION]:
            continue  # replayed duplicate: already stored at this version or later
        if mode == "repair" and (priced or not row[_IDX["priced"]]):
            continue  # repair fills gaps only: this call is stored and priced (or still unpriceable)
        row[IS_NEW], row[PREV_PRICED], row[PREV_COST], row[PREV_CREDITS] = 0, bool(priced), cost, credits
        out.append(row)
    return out
