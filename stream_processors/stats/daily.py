"""Daily usage per (UTC day, account, user, prompt type), by event time.

Keys include the prompt type, so the daily table is co-partitioned with the costed topic: every
update of a key comes from the one partition that carries its prompt type. One message updates
each of its keys once (``group`` first, then ``apply`` per key).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Sequence

import orjson

from schemas.events import TOKEN_BUCKETS
from schemas.stats import DailyUsage
from stream_processors.stats.calls import Call

DayKey = tuple[date, str, str, str]  # day, account, user ("" if none), prompt type


def group(calls: Sequence[Call]) -> dict[DayKey, list[Call]]:
    groups: dict[DayKey, list[Call]] = defaultdict(list)
    for call in calls:
        groups[(call.occurred_at.date(), call.account_id, call.user_id or "", call.prompt_type)].append(call)
    return groups


def encode_key(key: DayKey) -> bytes:
    """Unambiguous bytes key (ids may contain any character): a JSON array."""
    day, account, user, prompt_type = key
    return orjson.dumps([day.isoformat(), account, user, prompt_type])


def decode_key(raw: bytes) -> DayKey:
    day, account, user, prompt_type = orjson.loads(raw)
    return date.fromisoformat(day), account, user, prompt_type


def apply(row: DailyUsage | None, key: DayKey, calls: Sequence[Call], offset: int) -> DailyUsage:
    """``row`` with ``calls`` added, remembering ``offset`` as applied."""
    day, account, user, prompt_type = key
    tokens = dict(row.tokens) if row else {name: 0 for name in TOKEN_BUCKETS}
    for call in calls:
        for name, n in zip(TOKEN_BUCKETS, call.tokens):
            tokens[name] = tokens.get(name, 0) + n
    priced = [c for c in calls if c.priced]
    return DailyUsage.model_construct(
        day=day,
        account_id=account,
        user_id=user,
        prompt_type=prompt_type,
        calls=(row.calls if row else 0) + len(calls),
        errors=(row.errors if row else 0) + sum(1 for c in calls if not c.success),
        tokens=tokens,
        total_tokens=sum(tokens.values()),
        cost_usd=(row.cost_usd if row else Decimal(0)) + sum((c.cost_usd for c in priced), Decimal(0)),
        priced_calls=(row.priced_calls if row else 0) + len(priced),
        unpriced_calls=(row.unpriced_calls if row else 0) + len(calls) - len(priced),
        latency_ms_sum=(row.latency_ms_sum if row else 0.0) + sum(c.latency_ms for c in calls),
        applied_offset=offset,
    )
