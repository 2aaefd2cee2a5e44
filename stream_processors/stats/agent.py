"""Faust agent of the costed stage: statistics, snapshot, daily usage, anomalies, spend forwarding.

The agent takes up to ``AILEDGER_STATS_TAKE_MESSAGES`` costed messages at a time (or what came
within ``AILEDGER_STATS_TAKE_SECONDS``, 2 s), groups them by prompt type, and per prompt type reads
its value and the daily rows the run touches, ``step.plan``s them, and writes each value once;
then sends the spend to the account stage (one message per spend partition touched) and the
alerts. On noida-db every table write costs a changelog send of a few milliseconds, so writing
once per run instead of once per message is what makes the stage keep up (see the docs).

Tables are keyed by the prompt type (or keys containing it), co-partitioned with the costed
topic; each write is made in the context of one of that prompt type's own events, so its
changelog record goes to that event's partition.

The API process cannot read these tables, so changed values are also published every
``AILEDGER_STATS_PUBLISH_SECONDS`` (default 1 s) to the compacted topics ``ai.prompt-stats.v1``
(key: prompt type; statistics state + latest call) and ``ai.daily-usage.v1`` (key: daily key).
A daily row older than yesterday (a late call's) is sent by the run that changed it instead, before
the run is acked: a recovery publishes only the last ``REPUBLISH_DAYS`` days again.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Iterator

import orjson
from faust import streams

from ailedger import topics
from schemas.codec import DecodeError, dumps
from schemas.costed_columns import CostedColumns, decode_costed
from schemas.prompt_config import budget_key
from schemas.stats import DailyUsage
from stream_processors import delivery
from stream_processors.alerts.agent import send_alerts, spend_topic, views, views_ready
from stream_processors.alerts.rules import AlertRules
from stream_processors.alerts.spend import split_by_partition
from stream_processors.app import app, topic
from stream_processors.dead_letters import DeadLetterSender
from stream_processors.stats import daily, tables
from stream_processors.stats.batch import CallBatch
from stream_processors.stats.calls import parse_costed
from stream_processors.stats.columns import batch_from_columns
from stream_processors.stats.guard import Position, describe_segments, parse_source_header
from stream_processors.stats.step import Message, PromptTypeState, plan, stats_message
from stream_processors.taking import take_acked

log = logging.getLogger(__name__)

settings = app.ailedger_settings
rules = AlertRules()
PUBLISH_SECONDS = settings.stats_publish_seconds
CACHE_LIMIT = 2_000
#: Days of daily rows published again after a recovery (today, UTC, and the days before it).
REPUBLISH_DAYS = 3

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
#: Created configs the broker refused in the last round; sent again in the next.
_unsent_configs: list[Any] = []


@contextlib.contextmanager
def writing_as(event: Any) -> Iterator[None]:
    """Make ``event`` the current event: Faust writes a table key into the store and changelog
    partition of the current event, and after ``take_acked`` that is the run's last event, not
    necessarily one of this prompt type's."""
    token = streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        streams._current_event.reset(token)


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


async def _apply(prompt_type: str, messages: list[Message], event: Any, now: datetime) -> list[list[Any]]:
    """Plan and write one prompt type's run; returns its spend entries."""
    key = prompt_type.encode()
    touched = {k for _, batch in messages for k in batch.day_keys()}
    day_keys = {k: daily.encode_key(k) for k in touched}  # each key encoded once per run
    rows = {k: _load_row(raw_key) for k, raw_key in day_keys.items()}
    budget = views.budget(budget_key("prompt_type", prompt_type=prompt_type))
    result = plan(_load_state(key), rows, messages, now, rules, budget)
    if result.skipped:
        log.info("%s: calls of %d raw messages counted before, not again (priced again after a restart): %s",
                 prompt_type, len(result.skipped), describe_segments(result.skipped))
    today, late = now.date(), []
    with writing_as(event):
        if result.state is not None:
            encoded = orjson.dumps(result.state.to_wire())
            prompt_types[key] = encoded
            _decoded[key] = (encoded, result.state)
        for day_key, row in result.daily.items():
            raw_key, value = day_keys[day_key], row.model_dump_json().encode()
            daily_table[raw_key] = value
            if daily.sent_with_run(day_key[0], today, REPUBLISH_DAYS):
                late.append((raw_key, value))
            else:
                _dirty_daily.add(raw_key)
        if result.snapshot is not None:
            snapshots[key] = result.snapshot.model_dump_json().encode()
    for raw_key, value in late:  # part of the run: delivered before it is acked
        await delivery.send(daily_topic, key=raw_key, value=value)
    await send_alerts(result.alerts)
    _dirty_prompt_types.add(key)
    config = views.creator.check(prompt_type, messages[0][1].operation[0])
    if config is not None:
        await delivery.send(configs_topic, key=key, value=dumps(config))
    return result.spend


async def _calls_of(event: Any) -> CallBatch:
    """The calls of one costed message; what cannot be read is dead-lettered."""
    try:
        items = decode_costed(event.value)
    except DecodeError as exc:
        await dead_letters.send(str(exc), event.value or b"", event.message, stage="stats-decode")
        return CallBatch.empty()
    if isinstance(items, CostedColumns):
        batch = batch_from_columns(items)
        if batch is not None:
            return batch
        items = items.items()  # not in the usual form: call by call, each with its reason
    calls = []
    for item in items:
        try:
            calls.append(parse_costed(item))
        except ValueError as exc:
            event_id = item.get("event", {}).get("event_id") if isinstance(item, dict) else None
            await dead_letters.send(str(exc), dumps(item), event.message, event_id=event_id)
    return CallBatch.from_calls(calls)


@app.agent(topic(app, topics.COSTED))
async def live_stats(stream):
    """Fold runs of costed messages into their prompt types' live state."""
    await views_ready()
    async for events in take_acked(stream, settings.stats_take_messages, settings.stats_take_seconds):
        runs: dict[str, list[Message]] = defaultdict(list)
        last_event: dict[str, Any] = {}
        for event in events:
            message = event.message
            pos = Position(message.partition, message.offset, parse_source_header(message.headers))
            for prompt_type, batch in (await _calls_of(event)).by_prompt_type():
                runs[prompt_type].append((pos, batch))
                last_event[prompt_type] = event
        now = datetime.now(timezone.utc)
        spend: list[list[Any]] = []
        for prompt_type, messages in runs.items():
            messages.sort(key=lambda m: (m[0].partition, m[0].offset))
            try:
                spend += await _apply(prompt_type, messages, last_event[prompt_type], now)
            except Exception as exc:  # noqa: BLE001 - Faust would ack and lose it: dead-letter it instead
                log.exception("live statistics failed for %s", prompt_type)
                ids = [event_id for _, batch in messages for event_id in batch.event_id]
                await dead_letters.send(f"{type(exc).__name__}: {exc}", dumps(ids), last_event[prompt_type].message)
        for partition, entries in split_by_partition(spend, settings.partitions).items():
            await delivery.send(spend_topic, key=str(partition).encode(), partition=partition,
                                value=orjson.dumps({"entries": entries}))


@prompt_types.on_recover
async def _republish_prompt_types() -> None:
    """After a rebalance's recovery, publish every prompt type this worker now owns once more. A
    worker killed within ``PUBLISH_SECONDS`` of a write never published it, and the value is
    only published again when it changes, which for a quiet prompt type may be never (the API
    then served statistics short of calls the table holds)."""
    _dirty_prompt_types.update(prompt_types.keys())


@daily_table.on_recover
async def _republish_daily() -> None:
    """The same for the daily rows of the last ``REPUBLISH_DAYS`` days (there is one row per day,
    account, user and prompt type, too many to send all after every rebalance). An older row
    never waits for the timer: the run that changed it sent it (:func:`daily.sent_with_run`)."""
    _dirty_daily.update(daily.recent_keys(daily_table.keys(), datetime.now(timezone.utc).date(), REPUBLISH_DAYS))


@app.timer(interval=PUBLISH_SECONDS)
async def publish_live_views() -> None:
    """Send every value changed since the last round to the API's compacted topics. A value the
    broker refused keeps its change mark (or stays queued, for a config) and goes again next round."""
    global _unsent_configs
    published_at = datetime.now(timezone.utc)
    sends: list[tuple[tuple[set[bytes] | None, Any], Any]] = []  # ((change marks, key), delivery)
    keys = list(_dirty_prompt_types)
    _dirty_prompt_types.clear()
    for key in keys:
        raw = prompt_types.get(key)
        if raw is not None:
            value = stats_message(raw, snapshots.get(key), published_at)
            sends.append(((_dirty_prompt_types, key), await stats_topic.send(key=key, value=value)))
    day_keys = list(_dirty_daily)
    _dirty_daily.clear()
    for key in day_keys:
        raw = daily_table.get(key)
        if raw is not None:
            sends.append(((_dirty_daily, key), await daily_topic.send(key=key, value=raw)))
    configs, _unsent_configs = _unsent_configs + list(views.creator.drain()), []
    for config in configs:
        sends.append(((None, config), await configs_topic.send(key=config.prompt_type.encode(), value=dumps(config))))
    for marks, item in await delivery.undelivered(sends, "the live views"):
        if marks is None:
            _unsent_configs.append(item)
        else:
            marks.add(item)
