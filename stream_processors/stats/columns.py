"""The :class:`~stream_processors.stats.batch.CallBatch` of a columns message, checked and
converted a column at a time (:mod:`schemas.costed_columns`).

:func:`batch_from_columns` holds exactly what :func:`~stream_processors.stats.calls.parse_costed`
gives for the message's calls one by one, or is ``None`` when a column is not in the pricing
stage's form (a negative count, a time with an offset, a priced call without its total ...):
the caller then parses call by call, which names each bad call.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from operator import attrgetter
from typing import Any

from schemas.costed_columns import CostedColumns, NotBulk, typed
from schemas.events import TOKEN_BUCKETS
from stream_processors.stats.batch import CallBatch

_UTC = timezone.utc
_STR, _OPTIONAL_STR, _INT = frozenset({str}), frozenset({str, type(None)}), frozenset({int})
_fromisoformat = datetime.fromisoformat
_not_negative = (0.0).__le__  # False for NaN too: NaN takes the call-by-call path
_finite, _tzinfo = Decimal.is_finite, attrgetter("tzinfo")


def _totals(priced: list[bool], texts: list[Any]) -> tuple[list[Decimal | None], list[float | None]]:
    """The total of each priced call (``None`` for the others), exact and finite, and as a float
    (from its text: the same float as from the Decimal, at a fifth of the cost)."""
    wanted = texts if priced.count(True) == len(priced) else [t for p, t in zip(priced, texts) if p]
    if not wanted:
        return [None] * len(priced), [None] * len(priced)
    amounts = list(map(Decimal, typed(wanted, _STR, "totals")))
    if not all(map(_finite, amounts)):
        raise NotBulk("a total is not finite")
    floats = list(map(float, wanted))
    if len(wanted) == len(priced):
        return amounts, floats  # type: ignore[return-value]
    found, found_floats = iter(amounts), iter(floats)
    return [next(found) if p else None for p in priced], [next(found_floats) if p else None for p in priced]


def batch_from_columns(batch: CostedColumns) -> CallBatch | None:
    """The message's calls, or ``None`` (then use ``parse_costed`` on ``batch.items()``)."""
    try:
        return _calls(batch)
    except (NotBulk, KeyError, TypeError, ValueError, ArithmeticError):
        return None


def _calls(batch: CostedColumns) -> CallBatch:
    n, col, columns = batch.n, batch.column, batch.columns
    if n == 0:
        return CallBatch.empty()
    counts = [typed(col(name, 0), _INT, "token counts") for name in TOKEN_BUCKETS]
    if min(map(min, counts)) < 0:
        raise NotBulk("negative token count")
    latency = list(map(float, col("latency_ms", 0.0)))
    if not all(map(_not_negative, latency)):
        raise NotBulk("negative latency")
    priced = list(map(bool, col("priced")))
    reasons = col("unpriced_reason")
    if priced.count(True) != n:
        reasons = [None if p else (r or "no price known") for p, r in zip(priced, reasons)]
    else:
        reasons = [None] * n
    times = list(map(_fromisoformat, typed(col("occurred_at"), _STR, "times")))
    if set(map(_tzinfo, times)) != {_UTC}:
        raise NotBulk("times not in UTC")
    accounts = typed(col("account_id"), _STR, "accounts")
    models = typed(col("model"), _STR, "models")
    if "" in accounts or "" in models:
        raise NotBulk("empty account or model")
    metadata = [m if isinstance(m, dict) else None for m in col("metadata")] if "metadata" in columns \
        else [{} for _ in range(n)]
    totals, cost_floats = _totals(priced, col("total_usd"))
    return CallBatch(
        typed(col("event_id"), _STR, "event ids"), times, accounts, typed(col("user_id"), _OPTIONAL_STR, "users"),
        [t or "default" for t in typed(col("prompt_type"), _OPTIONAL_STR, "prompt types")], models,
        typed(col("provider", ""), _STR, "providers"), typed(col("operation", ""), _STR, "operations"),
        tuple(counts), latency, list(map(bool, col("success", True))),  # type: ignore[arg-type]
        list(map(bool, col("cached", False))), priced, totals, col("error_type"), col("error_message"), reasons,
        col("prompt"), col("response"), metadata, _cost_floats=cost_floats,
    )
