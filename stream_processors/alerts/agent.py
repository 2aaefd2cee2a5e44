"""Faust agent of the account stage: monthly spend per account and user, and budget alerts.

The costed stage (``stream_processors.stats.agent``) sends each costed message's priced spend,
summed per (account, user, month), to ``ai.spend.v1`` at the partition of the account
(``spend.partition_for``), so the spend table's account and user keys each have one owner.
This module also holds what both agents share: the alerts and spend topics, the worker views.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from ailedger import topics
from schemas.alerts import Alert
from schemas.codec import dumps, loads
from stream_processors import delivery
from stream_processors.alerts.budgets import SpendState
from stream_processors.alerts.spend import apply_message, keys_of
from stream_processors.app import app, topic
from stream_processors.dead_letters import DeadLetterSender
from stream_processors.prompt_configs import WorkerViews
from stream_processors.stats import tables
from stream_processors.taking import take_acked

log = logging.getLogger(__name__)

settings = app.ailedger_settings
views = WorkerViews(settings)
alerts_topic = topic(app, topics.ALERTS)
spend_topic = app.topic(settings.topic(topics.SPEND), key_type=bytes, value_type=bytes, partitions=settings.partitions)
spend_table = app.Table(tables.SPEND, key_type=bytes, value_type=bytes, partitions=settings.partitions)
dead_letters = DeadLetterSender(topic(app, topics.DLQ), stage="budget")

#: How long an agent waits at start for the views (budgets, configs) to read their topics.
VIEWS_READY_SECONDS = 15.0


async def views_ready() -> None:
    """Start the views (once) and wait until they have caught up, without blocking the loop."""
    if not await asyncio.to_thread(views.wait_ready, VIEWS_READY_SECONDS):
        log.warning("budget/config views not caught up after %.0f s; going on with what they have",
                    VIEWS_READY_SECONDS)


async def send_alerts(alerts: list[Alert]) -> None:
    for alert in alerts:
        await delivery.send(alerts_topic, key=alert.alert_id.encode(), value=dumps(alert))


def _state(raw: bytes | None) -> SpendState | None:
    return None if raw is None else SpendState.model_validate_json(raw)


@app.agent(spend_topic)
async def account_spend(stream):
    """Add runs of spend messages to their accounts' and users' monthly totals; fire budget alerts.
    Each key is read and written once per run, in the context of its own partition's event."""
    from stream_processors.stats.agent import writing_as  # one helper for both stages

    await views_ready()
    async for events in take_acked(stream, settings.stats_take_messages, settings.stats_take_seconds):
        states: dict[str, SpendState | None] = {}
        owner: dict[str, Any] = {}
        alerts: list[Alert] = []
        for event in events:
            try:
                message = loads(event.value)
                keys = keys_of(message)
                for key in keys:
                    if key not in states:
                        states[key] = _state(spend_table.get(key.encode()))
                new, raised = apply_message({k: states[k] for k in keys}, message, views.budget)
            except Exception as exc:  # noqa: BLE001 - Faust would ack and lose it: dead-letter it instead
                log.exception("spend message failed")
                await dead_letters.send(f"spend message failed: {type(exc).__name__}: {exc}", event.value or b"",
                                        event.message)
                continue
            states.update(new)
            owner.update(dict.fromkeys(new, event))
            alerts += raised
        for key, event in owner.items():
            with writing_as(event):
                spend_table[key.encode()] = orjson.dumps(states[key].model_dump(mode="json"))  # type: ignore[union-attr]
        await send_alerts(alerts)
