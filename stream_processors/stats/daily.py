"""Daily usage per (UTC day, account, user, prompt type), by event time.

Keys include the prompt type, so the daily table is co-partitioned with the costed topic: every
update of a key comes from the one partition that carries its prompt type. One message updates
each of its keys once (``usage_by_key`` first, then ``add`` per key).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable

import orjson

from schemas.events import TOKEN_BUCKETS
from schemas.stats import DailyUsage
from stream_processors.stats.batch import Calls, DayKey, as_batch
from stream_processors.stats.calls import Call

ZERO = Decimal(0)


def day_key(call: Call) -> DayKey:
    return call.occurred_at.date(), call.account_id, call.user_id or "", call.prompt_type


#: The sums of a key's calls: [calls, five token buckets, errors, priced calls, cost, latency sum].
Usage = list


def usage_by_key(calls: Calls) -> dict[DayKey, Usage]:
    """The :data:`Usage` of each daily key the calls touch, keys in order of first appearance:
    one pass over the columns (a message of 200 calls touches ~35 keys of the demo traffic)."""
    batch = as_batch(calls)
    sums: dict[DayKey, Usage] = {}
    get = sums.get
    columns = zip(batch.day_keys(), *batch.tokens, batch.success, batch.priced, batch.cost_usd, batch.latency_ms)
    for key, t0, t1, t2, t3, t4, success, priced, cost, latency in columns:
        s = get(key)
        if s is None:
            sums[key] = [1, t0, t1, t2, t3, t4, 0 if success else 1, 1 if priced else 0,
                         ZERO + cost if priced else ZERO, latency]  # ZERO + , in order: as ever
        else:
            s[0] += 1
            s[1] += t0
            s[2] += t1
            s[3] += t2
            s[4] += t3
            s[5] += t4
            if not success:
                s[6] += 1
            if priced:
                s[7] += 1
                s[8] += cost
            s[9] += latency
    return sums


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


def add(row: DailyUsage | None, key: DayKey, usage: Usage, offset: int) -> DailyUsage:
    """``row`` with a key's :data:`Usage` added, remembering ``offset`` as applied."""
    day, account, user, prompt_type = key
    n, t0, t1, t2, t3, t4, errors, priced_count, cost, latency = usage
    if row is None:
        tokens = dict(zip(TOKEN_BUCKETS, (t0, t1, t2, t3, t4))) if n else {name: 0 for name in TOKEN_BUCKETS}
        before_calls = before_errors = before_priced = before_unpriced = 0
        before_cost, before_latency = ZERO, 0.0
    else:
        tokens = dict(row.tokens)
        if n:
            get = tokens.get
            for name, count in zip(TOKEN_BUCKETS, (t0, t1, t2, t3, t4)):
                tokens[name] = get(name, 0) + count
        before_calls, before_errors = row.calls, row.errors
        before_priced, before_unpriced = row.priced_calls, row.unpriced_calls
        before_cost, before_latency = row.cost_usd, row.latency_ms_sum
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
        "priced_calls": before_priced + priced_count,
        "unpriced_calls": before_unpriced + n - priced_count,
        "latency_ms_sum": before_latency + latency,
        "applied_offset": offset,
    })
