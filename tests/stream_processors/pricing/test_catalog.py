"""The catalog: versions, time-of-day rows, per-day cache invalidation, the CallCost it builds."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from schemas.costed import CallCost
from stream_processors.pricing import PriceCatalog, price_call
from stream_processors.pricing.genai_source import VERSION

from .support import call, override


def test_time_of_day_prices_deepseek_off_peak():
    # deepseek-chat: $0.27 input 00:30-16:30 UTC, $0.135 outside (off-peak).
    catalog = PriceCatalog()
    day = datetime(2026, 6, 1, tzinfo=timezone.utc)
    peak = price_call(call("deepseek", "deepseek-chat", day.replace(hour=10), input_tokens=1_000_000), catalog)
    off = price_call(call("deepseek", "deepseek-chat", day.replace(hour=20), input_tokens=1_000_000), catalog)
    edge = price_call(call("deepseek", "deepseek-chat", day.replace(hour=16, minute=30), input_tokens=1_000_000), catalog)
    just_before = price_call(
        call("deepseek", "deepseek-chat", day.replace(hour=16, minute=29, second=59, microsecond=999_999), input_tokens=1_000_000),
        catalog,
    )
    assert peak.input_usd == Decimal("0.27") and just_before.input_usd == Decimal("0.27")
    assert off.input_usd == Decimal("0.135") and edge.input_usd == Decimal("0.135")
    assert peak.price_version == f"genai-prices@{VERSION}:deepseek/deepseek-chat@00:30-16:30"
    assert off.price_version == f"genai-prices@{VERSION}:deepseek/deepseek-chat"


def test_start_date_rows_are_versioned_by_their_date():
    # claude-sonnet-4-5's standard row has no date; a model with a dated row records it.
    from genai_prices import types as T
    from genai_prices.data_snapshot import get_snapshot

    provider, model = next(
        (p, m)
        for p in get_snapshot().providers
        for m in p.models
        if isinstance(m.prices, list) and isinstance(m.prices[-1].constraint, T.StartDateConstraint)
        and m.prices[-1].constraint.start_date < datetime.now(timezone.utc).date()
        and m.is_match(m.id)
    )
    start = model.prices[-1].constraint.start_date
    when = datetime(start.year, start.month, start.day, 1, tzinfo=timezone.utc)
    cost = price_call(call(provider.id, model.id, when, input_tokens=1_000), PriceCatalog())
    assert cost.price_version.endswith(f"/{model.id}@{start.isoformat()}")


def test_an_override_applied_later_invalidates_the_cached_day():
    catalog = PriceCatalog()
    event = call("ollama", "llama3", input_tokens=1_000_000)
    assert not price_call(event, catalog).priced  # caches the day as unpriced
    catalog.apply(override("ollama", "llama3", "2026-01-01", input="0.2", output="0.2"))
    assert price_call(event, catalog).input_usd == Decimal("0.2")


def test_override_window_inside_a_day():
    start = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)
    end = datetime(2026, 6, 1, 17, tzinfo=timezone.utc)
    catalog = PriceCatalog([override("ollama", "llama3", start, effective_to=end, input="1", output="1")])
    at = lambda hour: price_call(call("ollama", "llama3", start.replace(hour=hour), input_tokens=1_000_000), catalog)
    assert [at(h).priced for h in (8, 9, 16, 17)] == [False, True, True, False]


def test_built_cost_is_the_same_as_a_validated_callcost():
    cost = price_call(call("openai", "gpt-4o", input_tokens=1_234, output_tokens=56), PriceCatalog())
    validated = CallCost.model_validate(cost.model_dump())
    assert cost == validated
    assert cost.model_dump() == validated.model_dump()
    assert cost.model_dump_json() == validated.model_dump_json()
    assert cost.model_fields_set == validated.model_fields_set


def test_non_utc_times_are_priced_at_the_same_instant():
    from datetime import timedelta

    catalog = PriceCatalog()
    utc = datetime(2026, 6, 1, 20, tzinfo=timezone.utc)
    other = utc.astimezone(timezone(timedelta(hours=9)))  # 05:00 next day in +09:00
    assert catalog.resolve("deepseek", "deepseek-chat", other) is catalog.resolve("deepseek", "deepseek-chat", utc)
