"""Daily usage per (UTC day, account, user, prompt type), by event time.

Keys include the prompt type, so the daily table is co-partitioned with the costed topic: every
update of a key comes from the one partition that carries its prompt type. One message updates
each of its keys once (``group`` first, then ``apply`` per key).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable, Sequence

import orjson

from schemas.events import TOKEN_BUCKETS
from schemas.stats import DailyUsage
from stream_processors.stats.calls import Call

ZERO = Decimal(0)

DayKey = tuple[date, str, str, str]  # day, account, user ("" if none), prompt type


def day_key(call: Call) -> DayKey:
    return call.occurred_at.date(), call.account_id, call.user_id or "", call.prompt_type


def group(calls: Sequence[Call]) -> dict[DayKey, list[Call]]:
    groups: dict[DayKey, list[Call]] = defaultdict(list)
    for call in calls:
        groups[day_key(call)].append(call)
    return groups


def encode_key(key: DayKey) -> bytes:
    """Unambiguous bytes key (ids may contain any character): a JSON array."""
    day, account, user, prompt_type = key
    return orjson.dumps([day.isoformat(), account, user, prompt_type])


def recent_keys(keys: Iterable[bytes], today: date, days: int) -> list[bytes]:
    """The encoded keys (:func:`encode_key`) of rows of ``today`` and the ``days - 1`` days before
    it, or later. Compared as bytes: every key starts with ``["YYYY-MM-DD"``, nothing is decoded."""
    first = b'["' + (today - timedelta(days=days - 1)).isoformat().encode() + b'"'
    return [key for key in keys if key[:13] >= first]


def sent_with_run(day: date, today: date, republish_days: int) -> bool:
    """Whether a changed row of ``day`` is published by the run that changed it, before the run
    is acked, rather than by the timer: a row older than what a recovery publishes again
    (:func:`recent_keys` of ``republish_days``), with one day of margin for a recovery after
    midnight. Such rows are the rare late calls; a worker killed after its run was committed but
    before the timer published them would otherwise leave them off the view until they change."""
    return day < today - timedelta(days=republish_days - 2)


def decode_key(raw: bytes) -> DayKey:
    day, account, user, prompt_type = orjson.loads(raw)
    return date.fromisoformat(day), account, user, prompt_type


_FIELDS = frozenset(DailyUsage.model_fields)
_set = object.__setattr__


def _row(values: dict) -> DailyUsage:
    """``DailyUsage.model_construct(**values)`` for a dict of every field, at a seventh of the cost:
    what ``model_construct`` does once it has matched names and filled defaults (a test holds the
    two equal, ``__pydantic_fields_set__`` included)."""
    row = object.__new__(DailyUsage)
    _set(row, "__dict__", values)
    _set(row, "__pydantic_fields_set__", set(_FIELDS))
    _set(row, "__pydantic_extra__", None)
    _set(row, "__pydantic_private__", None)
    return row


def apply(row: DailyUsage | None, key: DayKey, calls: Sequence[Call], offset: int) -> DailyUsage:
    """``row`` with ``calls`` added, remembering ``offset`` as applied."""
    day, account, user, prompt_type = key
    t0 = t1 = t2 = t3 = t4 = 0
    errors = priced = 0
    cost = ZERO
    for call in calls:
        a, b, c, d, e = call.tokens
        t0 += a
        t1 += b
        t2 += c
        t3 += d
        t4 += e
        if not call.success:
            errors += 1
        if call.priced:
            priced += 1
            cost += call.cost_usd  # type: ignore[operator]
    latency = sum([c.latency_ms for c in calls])  # sum(), as ever: the float rounding stays the same
    if row is None:
        tokens = dict(zip(TOKEN_BUCKETS, (t0, t1, t2, t3, t4))) if calls else {name: 0 for name in TOKEN_BUCKETS}
        before_calls = before_errors = before_priced = before_unpriced = 0
        before_cost, before_latency = ZERO, 0.0
    else:
        tokens = dict(row.tokens)
        if calls:
            get = tokens.get
            for name, n in zip(TOKEN_BUCKETS, (t0, t1, t2, t3, t4)):
                tokens[name] = get(name, 0) + n
        before_calls, before_errors = row.calls, row.errors
        before_priced, before_unpriced = row.priced_calls, row.unpriced_calls
        before_cost, before_latency = row.cost_usd, row.latency_ms_sum
    n = len(calls)
    return _row({
        "day": day,
        "account_id": account,
        "user_id": user,
        "prompt_type": prompt_type,
        "calls": before_calls + n,
        "errors": before_errors + errors,
        "tokens": tokens,
        "total_tokens": sum(tokens.values()),
        "cost_usd": before_cost + cost,
        "priced_calls": before_priced + priced,
        "unpriced_calls": before_unpriced + n - priced,
        "latency_ms_sum": before_latency + latency,
        "applied_offset": offset,
    })
