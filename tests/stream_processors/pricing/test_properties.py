"""Properties of price_call over random usage, models and times (hypothesis).

* cost never decreases when any one bucket grows - including across a long-context threshold,
  where the whole request jumps to the higher rate;
* no amount is ever negative;
* the total is the sum of the parts.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import TOKEN_BUCKETS
from stream_processors.pricing import PriceCatalog, price_call

from .support import call, override

#: Plain, cached, tiered (Gemini, Anthropic), reasoning-priced, per-request, time-of-day
#: (DeepSeek off-peak), a free model, and an override-priced local model.
MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "o3-mini"),
    ("openai", "omni-moderation-latest"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-pro"),
    ("google", "gemini-1.5-pro"),
    ("google", "gemini-2.0-flash"),
    ("perplexity", "sonar-deep-research"),
    ("perplexity", "sonar"),
    ("deepseek", "deepseek-chat"),
    ("ollama", "llama3"),
]
CATALOG = PriceCatalog([override("ollama", "llama3", "2025-01-01", input="0.05", output="0.1", cache_read="0.01")])

tokens = st.integers(min_value=0, max_value=3_000_000)
usage = st.fixed_dictionaries({bucket: tokens for bucket in TOKEN_BUCKETS})
models = st.sampled_from(MODELS)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 1), timezones=st.just(timezone.utc)
)
extras = st.dictionaries(
    st.sampled_from(["input_audio_tokens", "cache_write_1h_tokens", "web_searches", "cache_audio_read_tokens"]),
    st.integers(min_value=0, max_value=100_000),
    max_size=3,
)

PARTS = ("input_usd", "cache_read_usd", "cache_write_usd", "output_usd", "reasoning_usd", "other_usd")


@settings(max_examples=400, deadline=None)
@given(models, usage, extras, instants, st.sampled_from(TOKEN_BUCKETS), st.integers(min_value=1, max_value=400_000))
def test_cost_never_decreases_as_a_bucket_grows(model, counts, extra, when, bucket, growth):
    before = price_call(call(*model, when, extra_usage=extra, **counts), CATALOG)
    grown = dict(counts, **{bucket: counts[bucket] + growth})
    after = price_call(call(*model, when, extra_usage=extra, **grown), CATALOG)
    assert before.priced and after.priced
    assert after.total_usd >= before.total_usd


@settings(max_examples=300, deadline=None)
@given(models, usage, extras, instants)
def test_never_negative_and_total_is_the_sum_of_parts(model, counts, extra, when):
    cost = price_call(call(*model, when, extra_usage=extra, **counts), CATALOG)
    parts = [getattr(cost, name) for name in PARTS]
    assert all(part >= 0 for part in parts)
    assert cost.total_usd == sum(parts)
    assert cost.credits >= 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MODELS[:-1]), usage, instants, st.integers(min_value=0, max_value=86_399))
def test_the_same_call_at_the_same_time_always_costs_the_same(model, counts, when, second):
    when = when.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=second)
    fresh = PriceCatalog()  # an empty cache must give what the warm one gives
    assert price_call(call(*model, when, **counts), fresh) == price_call(call(*model, when, **counts), CATALOG)


class _DividingCatalog:
    """CATALOG's sheets with every level's per-token prices taken away: price_call divides."""

    def resolve(self, provider, model, when):
        sheet = CATALOG.resolve(provider, model, when)
        if sheet is None:
            return None
        return dataclasses.replace(sheet, levels=tuple(dataclasses.replace(lv, unit=None) for lv in sheet.levels))


@settings(max_examples=300, deadline=None)
@given(models, usage, extras, instants)
def test_per_token_prices_give_what_dividing_each_call_gives(model, counts, extra, when):
    event = call(*model, when, extra_usage=extra, **counts)
    assert CATALOG.resolve(*model, when) is None or CATALOG.resolve(*model, when).levels[0].unit is not None
    assert price_call(event, CATALOG) == price_call(event, _DividingCatalog())
