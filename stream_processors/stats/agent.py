"""Faust agent of the costed stage: statistics, snapshot, daily usage, anomalies, spend forwarding.

Per costed message (one prompt type, the topic's key): read the prompt type's value and the
daily rows the message touches, ``step.plan`` them, write each value once, send the spend to the
account stage (one message per spend partition touched), send alerts. The tables are keyed by
the prompt type (or by keys containing it), so they are co-partitioned with the costed topic.

The API process cannot read these tables, so the values are also published, throttled, to the
compacted topics ``ai.prompt-stats.v1`` (key: prompt type; statistics state + latest call) and
``ai.daily-usage.v1`` (key: the daily row's key): every ``AILEDGER_STATS_PUBLISH_SECONDS``
(default 1 s), each value changed since the last round is sent once.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from datetime import datetime, timezone

import orjson

from ailedger import topics
from schemas.codec import DecodeError, dumps, unpack
from schemas.prompt_config import budget_key
from schemas.stats import DailyUsage
from stream_processors.alerts.agent import send_alerts, spend_topic, views, views_ready
from stream_processors.alerts.rules import AlertRules
from stream_processors.alerts.spend import split_by_partition
from stream_processors.app import app, topic
from stream_processors.dead_letters import DeadLetterSender
from stream_processors.stats import daily, tables
from stream_processors.stats.calls import Call, parse_costed
from stream_processors.stats.guard import Position, parse_source_header
from stream_processors.stats.step import PromptTypeState, plan, stats_message

log = logging.getLogger(__name__)

settings = app.ailedger_settings
rules = AlertRules()
PUBLISH_SECONDS = float(os.environ.get("AILEDGER_STATS_PUBLISH_SECONDS", "1.0"))
CACHE_LIMIT = 2_000

prompt_types = app.Table(tables.PROMPT_TYPES, key_type=bytes, value_type=bytes, partitions=settings.partitions)
snapshots = app.Table(tables.SNAPSHOTS, key_type=bytes, value_type=bytes, partitions=settings.partitions)
daily_table = app.Table(tables.DAILY, key_type=bytes, value_type=bytes, partitions=settings.partitions)

stats_topic = app.topic(settings.topic(topics.PROMPT_STATS), key_type=bytes, value_type=bytes, partitions=None)
daily_topic = app.topic(settings.topic(topics.DAILY_USAGE), key_type=bytes, value_type=bytes, partitions=None)
configs_topic = topic(app, topics.PROMPT_CONFIGS)
dead_letters = DeadLetterSender(topic(app, topics.DLQ), stage="stats")

#: Decoded prompt-type values by key, with the bytes they were decoded from: a value is reused
#: only while the table still holds exactly those bytes (so a rebalance can never serve a stale one).
_decoded: dict[bytes, tuple[bytes, PromptTypeState]] = {}
_dirty_prompt_types: set[bytes] = set()
_dirty_daily: set[bytes] = set()
_spend_partitions = settings.partitions


def _load_state(key: bytes) -> PromptTypeState | None:
    raw = prompt_types.get(key)
    if raw is None:
        return None
    cached = _decoded.get(key)
    if cached is not None and cached[0] == raw:
        return cached[1]
    state = PromptTypeState.from_wire(orjson.loads(raw))
    if len(_decoded) >= CACHE_LIMIT:
        _decoded.clear()
    _decoded[key] = (raw, state)
    return state


def _load_row(key: bytes) -> DailyUsage | None:
    raw = daily_table.get(key)
    return None if raw is None else DailyUsage.model_validate_json(raw)


async def _apply(prompt_type: str, calls: list[Call], pos: Position, now: datetime) -> None:
    key = prompt_type.encode()
    state = _load_state(key)
    day_keys = {k: daily.encode_key(k) for k in daily.group(calls)}
    rows = {k: _load_row(raw_key) for k, raw_key in day_keys.items()}
    budget = views.budget(budget_key("prompt_type", prompt_type=prompt_type))
    result = plan(state, rows, calls, pos, now, rules, budget)
    if result.state is not None:
        encoded = orjson.dumps(result.state.to_wire())
        prompt_types[key] = encoded
        _decoded[key] = (encoded, result.state)
    for day_key, row in result.daily.items():
        daily_table[day_keys[day_key]] = row.model_dump_json().encode()
        _dirty_daily.add(day_keys[day_key])
    if result.snapshot is not None:
        snapshots[key] = result.snapshot.model_dump_json().encode()
    if result.spend:
        for partition, entries in split_by_partition(result.spend, _spend_partitions).items():
            await spend_topic.send(key=str(partition).encode(), partition=partition,
                                   value=orjson.dumps({"src": [pos.partition, pos.offset], "spend": entries}))
    await send_alerts(result.alerts)
    _dirty_prompt_types.add(key)
    config = views.creator.check(prompt_type, calls[0].operation)
    if config is not None:
        await configs_topic.send(key=key, value=dumps(config))


@app.agent(topic(app, topics.COSTED))
async def live_stats(stream):
    """Fold each costed message into its prompt type's live state."""
    await views_ready()
    async for event in stream.events():
        message = event.message
        try:
            items = unpack(event.value)
        except DecodeError as exc:
            await dead_letters.send(str(exc), event.value or b"", message, stage="stats-decode")
            continue
        by_prompt_type: dict[str, list[Call]] = defaultdict(list)
        for item in items:
            try:
                call = parse_costed(item)
            except ValueError as exc:
                event_id = item.get("event", {}).get("event_id") if isinstance(item, dict) else None
                await dead_letters.send(str(exc), dumps(item), message, event_id=event_id)
                continue
            by_prompt_type[call.prompt_type].append(call)
        pos = Position(message.partition, message.offset, parse_source_header(message.headers))
        now = datetime.now(timezone.utc)
        for prompt_type, calls in by_prompt_type.items():
            try:
                await _apply(prompt_type, calls, pos, now)
            except Exception as exc:  # noqa: BLE001 - Faust would ack and lose it: dead-letter it instead
                log.exception("live statistics failed for %s", prompt_type)
                await dead_letters.send(f"{type(exc).__name__}: {exc}", dumps([c.event_id for c in calls]), message)


@app.timer(interval=PUBLISH_SECONDS)
async def publish_live_views() -> None:
    """Send every value changed since the last round to the API's compacted topics."""
    published_at = datetime.now(timezone.utc)
    keys = list(_dirty_prompt_types)
    _dirty_prompt_types.clear()
    for key in keys:
        raw = prompt_types.get(key)
        if raw is None:
            continue
        await stats_topic.send(key=key, value=stats_message(raw, snapshots.get(key), published_at))
    day_keys = list(_dirty_daily)
    _dirty_daily.clear()
    for key in day_keys:
        raw = daily_table.get(key)
        if raw is not None:
            await daily_topic.send(key=key, value=raw)
    for config in views.creator.drain():
        await configs_topic.send(key=config.prompt_type.encode(), value=dumps(config))
