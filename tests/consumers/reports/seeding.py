"""Seed ``ai_calls`` the way the sink does: a row is inserted only when it is new or a higher
version, stamped with ``is_new`` and the replaced version's ``prev_*`` figures."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from consumers.clickhouse.store import Store

DEFAULTS: dict[str, Any] = {
    "version": 1,
    "account_id": "acme",
    "user_id": "u1",
    "prompt_type": "chat",
    "operation": "answer",
    "provider": "openai",
    "model": "gpt-4o",
    "input_tokens": 100,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "output_tokens": 50,
    "reasoning_tokens": 0,
    "latency_ms": 1000.0,
    "success": True,
    "error_type": "",
    "error_message": "",
    "cached": False,
    "source": "test",
    "task_id": "",
    "trace_id": "",
    "span_id": "",
    "metadata": "{}",
    "prompt": "",
    "response": "",
    "priced": True,
    "cost_total_usd": Decimal("0.001"),
    "credits": None,
    "price_version": "test",
    "price_source": "test",
    "unpriced_reason": "",
    "kafka_partition": 0,
    "kafka_offset": 0,
}


def call(occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    """A full ``ai_calls`` row (without the sink's delta columns)."""
    row = dict(DEFAULTS)
    row.update(fields)
    row.setdefault("event_id", uuid.uuid4())
    row["occurred_at"] = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=timezone.utc)
    row["total_tokens"] = sum(row[k] for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                               "output_tokens", "reasoning_tokens"))
    if not row["priced"]:
        row["cost_total_usd"] = None
        row["credits"] = None
        row.setdefault("unpriced_reason", "no price")
    row.setdefault("priced_at", row["occurred_at"])
    return row


def insert_calls(store: Store, rows: list[dict[str, Any]]) -> int:
    """Insert like the sink; returns the number of rows actually inserted."""
    ids = [str(r["event_id"]) for r in rows]
    _, existing = store.rows(
        "SELECT toString(event_id), version, priced, cost_total_usd, credits FROM ai_calls FINAL "
        "WHERE event_id IN {ids:Array(UUID)}", {"ids": ids})
    stored = {r[0]: r[1:] for r in existing}
    out = []
    for row in rows:
        key = str(row["event_id"])
        previous = stored.get(key)
        if previous is not None and previous[0] >= row["version"]:
            continue
        row = dict(row)
        row["is_new"] = 0 if previous else 1
        row["prev_priced"] = previous[1] if previous else False
        row["prev_cost_total_usd"] = previous[2] if previous else None
        row["prev_credits"] = previous[3] if previous else None
        stored[key] = (row["version"], row["priced"], row["cost_total_usd"], row["credits"])
        out.append(row)
    if out:
        columns = list(out[0])
        store.insert("ai_calls", [[r[c] for c in columns] for r in out], columns)
    return len(out)
