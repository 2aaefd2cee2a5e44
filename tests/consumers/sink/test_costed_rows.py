"""The costed sink's rows, through the real ClickHouse engine: the JSON rows store exactly what
the earlier Python conversion stored (UUID, Decimal truncated to the column's scale, times
truncated to the millisecond), bad values become failures (dead letters) instead of failing the
insert, and the version check never double counts a re-delivered call."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal, localcontext

import orjson
import pytest

from ailedger.demo_traffic import generate
from consumers.clickhouse import rows as rows_module
from consumers.sink.costed_writer import CostedCallsWriter
from schemas.codec import dumps, encode_batch
from schemas.costed import CostedCall
from schemas.costed_columns import decode_costed, encode_costed
from stream_processors.costing import cost_batch
from stream_processors.pricing import load_catalog

MONEY = ("input_usd", "output_usd", "reasoning_usd", "other_usd", "total_usd")


def costed_messages(n: int, seed: int = 5) -> list[bytes]:
    """Columns messages of ``n`` demo calls (one per prompt type), as the pricing stage sends them."""
    events = [orjson.loads(dumps(e)) for e in generate(n, seed=seed)]
    batch = cost_batch(events, load_catalog(None))
    return [encode_costed(calls) for calls in batch.by_prompt_type.values()]


def costed_items(n: int, seed: int = 5) -> list[dict]:
    """The same calls in the row form (``ai.call.costed.v1``), as the sink reads them one by one."""
    return [item for message in costed_messages(n, seed) for item in decode_costed(message).items()]


def complete(item: dict) -> tuple[dict, dict]:
    """The event and cost of a compact wire item with every field (the model restores defaults)."""
    full = CostedCall.model_validate(item).model_dump(mode="json")
    return full["event"], full["cost"]


def sink(store, writer: CostedCallsWriter, items: list, offset: int = 0) -> tuple[int, list]:
    """What the sink does with one message and one flush; returns (rows inserted, failures)."""
    rows, failures = writer.to_rows(encode_batch(items), 0, offset)
    ready = writer.prepare(store, [rows])
    if ready:
        writer.write(store, ready, dedup_token=uuid.uuid4().hex)
    return len(ready), failures


def truncated(value, scale: int) -> Decimal | None:
    if value is None:
        return None
    with localcontext(prec=60):
        return Decimal(str(Decimal(value))).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_DOWN)


def millis(value: str) -> datetime:
    at = datetime.fromisoformat(value).astimezone(timezone.utc)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def stored(store, event_id) -> dict:
    return store.dicts("SELECT * FROM ai_calls FINAL WHERE event_id = {id:UUID}", {"id": str(event_id)})[0]


def test_demo_traffic_is_stored_exactly(store):
    items = costed_items(300)
    writer = CostedCallsWriter(lambda prompt_type: (True, prompt_type == "chat"))
    items[0]["event"].update(prompt="quotes \" ' \\ newline\n tab\t unicode ü 漢字 🙂", response="ok", prompt_type="chat")
    inserted, failures = sink(store, writer, items)
    assert (inserted, failures) == (len(items), [])
    for item in items[:40]:
        e, c = complete(item)
        row = stored(store, e["event_id"])
        assert row["event_id"] == uuid.UUID(e["event_id"])
        assert row["occurred_at"].replace(tzinfo=timezone.utc) == millis(e["occurred_at"])
        assert row["priced_at"].replace(tzinfo=timezone.utc) == millis(item["priced_at"])
        for field in MONEY:
            assert row[f"cost_{field[:-4]}_usd"] == truncated(c[field], 12), field
        cache = (None if c["cache_read_usd"] is None or c["cache_write_usd"] is None
                 else Decimal(c["cache_read_usd"]) + Decimal(c["cache_write_usd"]))
        assert row["cost_cache_usd"] == truncated(cache, 12)
        assert row["credits"] == truncated(c["credits"], 6)
        assert row["latency_ms"] == e["latency_ms"]
        assert row["total_tokens"] == sum(e[k] for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                                         "output_tokens", "reasoning_tokens"))
        assert (row["is_new"], row["prev_priced"], row["prev_cost_total_usd"]) == (1, False, None)
        assert row["metadata"] == (orjson.dumps(e["metadata"]).decode() if e["metadata"] else "")
    first = stored(store, items[0]["event"]["event_id"])
    assert first["prompt"] == items[0]["event"]["prompt"] and first["response"] == "ok"
    total = store.rows("SELECT sum(cost_total_usd) FROM ai_calls")[1][0][0]
    assert total == sum((Decimal(i["cost"]["total_usd"]) for i in items if i["cost"]["priced"]), Decimal(0))


def test_uncommon_but_valid_values_are_converted_as_before(store):
    base = costed_items(1)[0]
    cases = [
        ({"total_usd": "0.12345678901234567", "credits": "1.23456789"}, {"occurred_at": "2026-03-01T10:00:00.999999+02:00"}),
        ({"total_usd": "1E-7", "input_usd": "-0.0000000000019", "credits": 3}, {"occurred_at": "2026-03-01T10:00:00Z"}),
        ({"total_usd": 0.1, "cache_read_usd": "0.5", "cache_write_usd": "0.25", "credits": None},
         {"occurred_at": "2026-03-01T10:00:00.5Z"}),
        ({"total_usd": "12345678901234567890.123456789012345", "other_usd": "007"}, {"occurred_at": "2026-03-01T10:00:00.123Z"}),
    ]
    items = []
    for cost, event in cases:
        item = copy.deepcopy(base)
        item["cost"].update(cost)
        item["event"].update(event, event_id=str(uuid.uuid4()).upper())
        items.append(item)
    braced = copy.deepcopy(base)
    braced["event"]["event_id"] = "{" + str(uuid.uuid4()) + "}"
    items.append(braced)
    inserted, failures = sink(store, CostedCallsWriter(), items)
    assert (inserted, failures) == (len(items), [])
    for item in items:
        e, c = item["event"], item["cost"]
        row = stored(store, uuid.UUID(e["event_id"]))
        assert row["occurred_at"].replace(tzinfo=timezone.utc) == millis(e["occurred_at"])
        for field in MONEY:
            assert row[f"cost_{field[:-4]}_usd"] == truncated(c[field], 12), (field, c[field])
        assert row["cost_cache_usd"] == truncated(Decimal(c["cache_read_usd"]) + Decimal(c["cache_write_usd"]), 12)
        assert row["credits"] == truncated(c["credits"], 6)


@pytest.mark.parametrize("change", [
    {"cost": {"total_usd": "NaN"}},
    {"cost": {"total_usd": "1" * 27}},
    {"cost": {"credits": "not money"}},
    {"event": {"occurred_at": "2026-13-01T10:00:00.000000Z"}},
    {"event": {"occurred_at": 12}},
    {"event": {"event_id": "not-a-uuid"}},
    {"priced_at": "yesterday"},
])
def test_a_bad_value_is_a_failure_and_the_others_are_stored(store, change):
    good, bad = costed_items(2)
    for key, value in change.items():
        if isinstance(value, dict):
            bad[key].update(value)
        else:
            bad[key] = value
    inserted, failures = sink(store, CostedCallsWriter(), [good, bad])
    assert inserted == 1
    assert len(failures) == 1 and "cannot be stored" in failures[0][0]


def test_re_delivery_of_a_single_call_is_never_double_counted(store):
    """One call per flush: the version query's time range is that call's own millisecond."""
    item = costed_items(1)[0]
    item["event"]["occurred_at"] = "2026-03-01T10:00:00.456789Z"
    item["cost"].update(priced=True, total_usd="0.5", credits="2")
    writer = CostedCallsWriter()
    assert sink(store, writer, [item])[0] == 1
    assert sink(store, writer, [item])[0] == 0  # exact duplicate
    re_rated = copy.deepcopy(item)
    re_rated["version"] = item["version"] + 1
    re_rated["cost"]["total_usd"] = "0.75"
    assert sink(store, writer, [re_rated])[0] == 1
    row = stored(store, item["event"]["event_id"])
    assert (row["is_new"], row["prev_priced"], row["prev_cost_total_usd"], row["prev_credits"]) == \
        (0, True, Decimal("0.5"), Decimal("2"))
    assert sink(store, writer, [item, re_rated])[0] == 0  # a replay of both versions
    _, totals = store.rows("SELECT sum(calls), sum(cost_usd), sum(credits) FROM ai_calls_daily")
    assert totals == [(1, Decimal("0.75"), Decimal("2"))]


def test_the_version_check_finds_calls_of_accounts_with_quotes_and_backslashes(store):
    """Accounts are written into the version query's text: they must be escaped, not break it."""
    items = costed_items(3)
    for item, account in zip(items, ["o'brien", "back\\slash", "semi;colon' OR '1'='1"]):
        item["event"]["account_id"] = account
    writer = CostedCallsWriter()
    assert sink(store, writer, items)[0] == 3
    assert sink(store, writer, items)[0] == 0  # found again: nothing stored twice
    _, totals = store.rows("SELECT count(), uniqExact(account_id) FROM ai_calls")
    assert totals == [(3, 3)]


def test_version_check_over_several_queries(store, monkeypatch):
    monkeypatch.setattr(rows_module, "_IDS_PER_QUERY", 3)
    items = costed_items(10)
    writer = CostedCallsWriter()
    assert sink(store, writer, items[:5])[0] == 5
    assert sink(store, writer, items)[0] == len(items) - 5
    assert sink(store, writer, items)[0] == 0
    _, totals = store.rows("SELECT sum(calls) FROM ai_calls_daily")
    assert totals == [(len(items),)]


def test_switched_off_prompt_type_is_not_stored(store):
    items = costed_items(40)
    off = items[0]["event"]["prompt_type"]
    writer = CostedCallsWriter(lambda prompt_type: (prompt_type != off, False))
    inserted, failures = sink(store, writer, items)
    assert failures == [] and inserted == sum(1 for i in items if i["event"]["prompt_type"] != off)


def test_is_new_and_the_prev_columns_are_the_last_four():
    """apply_stored_versions rebuilds a re-rated row as its head, then is_new and prev_*, then its mode."""
    last_four = (rows_module.IS_NEW, rows_module.PREV_PRICED, rows_module.PREV_COST, rows_module.PREV_CREDITS)
    width = len(rows_module.AI_CALLS_COLUMNS)
    assert last_four == tuple(range(width - 4, width))


def _at(when: str) -> tuple:
    row = [None] * len(rows_module.AI_CALLS_COLUMNS) + ["live"]
    row[rows_module.OCCURRED_AT] = when
    return tuple(row)


def test_the_version_lookup_is_cut_where_six_hours_or_more_hold_no_rows():
    live = [_at(f"2026-12-07 09:{m:02}:00.000") for m in range(0, 60, 7)] + [_at("2026-12-07 10:02:10.500")]
    assert rows_module.time_ranges(live) == [live]  # adjacent hours: one range
    early = _at("2026-12-07 03:59:59.000")
    assert rows_module.time_ranges([*live, early]) == [[early, *live]]  # 5 empty hours: not worth a query
    late, older = _at("2026-12-01 19:25:39.074"), _at("2026-11-30 03:00:00.000")
    groups = rows_module.time_ranges([*live[:3], late, *live[3:], older])
    assert groups == [[older], [late], live]  # each late call a range of its own, in time order
    spread = [_at(f"2026-11-{day:02} {hour:02}:00:00.000") for day in range(1, 29) for hour in (3, 15)]
    groups = rows_module.time_ranges(spread)
    assert len(groups) == 8 and sorted(r[rows_module.OCCURRED_AT] for g in groups for r in g) == \
        sorted(r[rows_module.OCCURRED_AT] for r in spread)  # at most 8 ranges; every row once


def test_version_check_finds_calls_across_time_ranges(store, monkeypatch):
    """Live calls with late ones days apart: each range's query finds its calls again, also when
    there are more gaps than ranges allowed (ranges then span gaps)."""
    items = costed_items(12)
    now = datetime.now(timezone.utc)
    for i, item in enumerate(items):
        days = (0, 0, 0, 2, 2, 9)[i % 6]
        item["event"]["occurred_at"] = (now.replace(microsecond=0) - timedelta(days=days, seconds=i)).isoformat()
    writer = CostedCallsWriter()
    assert sink(store, writer, items)[0] == 12
    assert sink(store, writer, items)[0] == 0
    monkeypatch.setattr(rows_module, "_MAX_TIME_RANGES", 2)
    assert sink(store, writer, items)[0] == 0
    _, totals = store.rows("SELECT sum(calls) FROM ai_calls_daily")
    assert totals == [(12,)]
