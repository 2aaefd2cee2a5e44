"""Known bills: costs computed by hand from the providers' published per-million-token rates.

Rates are those of the genai-prices 0.2.3 snapshot at 2026-06-01 (and the overrides given here);
each expected figure is written out as rate x tokens / 1,000,000 so it can be checked by eye.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from stream_processors.pricing import PriceCatalog, price_call
from stream_processors.pricing.genai_source import VERSION
from stream_processors.pricing.overrides import FILE_SOURCE

from .support import WHEN, call, override

M = Decimal(1_000_000)


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog()


def test_openai_gpt4o_cached_input(catalog):
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output; no cache-write price -> input price.
    cost = price_call(
        call("openai", "gpt-4o", input_tokens=10_000, cache_read_tokens=30_000, cache_write_tokens=4_000, output_tokens=2_000),
        catalog,
    )
    assert cost.priced
    assert cost.input_usd == 10_000 * Decimal("2.5") / M  # 0.025
    assert cost.cache_read_usd == 30_000 * Decimal("1.25") / M  # 0.0375
    assert cost.cache_write_usd == 4_000 * Decimal("2.5") / M  # 0.01 (fallback to input)
    assert cost.output_usd == 2_000 * Decimal("10") / M  # 0.02
    assert cost.reasoning_usd == 0 and cost.other_usd == 0
    assert cost.total_usd == Decimal("0.0925")
    assert cost.price_source == "genai-prices"
    assert cost.price_version == f"genai-prices@{VERSION}:openai/gpt-4o"  # the installed catalog's version


def test_openai_o_series_reasoning_at_output_rate(catalog):
    # o3-mini: $1.10 input, $4.40 output, no reasoning price -> reasoning at the output rate.
    cost = price_call(call("openai", "o3-mini", input_tokens=5_000, output_tokens=1_000, reasoning_tokens=4_000), catalog)
    assert cost.input_usd == Decimal("0.0055")
    assert cost.output_usd == Decimal("0.0044")
    assert cost.reasoning_usd == Decimal("0.0176")
    assert cost.total_usd == Decimal("0.0275")


def test_reasoning_at_its_own_rate_when_the_catalog_has_one(catalog):
    # perplexity sonar-deep-research: $8 output but $3 reasoning.
    cost = price_call(
        call("perplexity", "sonar-deep-research", input_tokens=1_000, output_tokens=1_000, reasoning_tokens=10_000),
        catalog,
    )
    assert cost.input_usd == Decimal("0.002")
    assert cost.output_usd == Decimal("0.008")
    assert cost.reasoning_usd == Decimal("0.03")
    assert cost.total_usd == Decimal("0.040")


def test_per_request_price_goes_to_other(catalog):
    # perplexity sonar: $1 input, $1 output, $12 per thousand requests.
    cost = price_call(call("perplexity", "sonar", input_tokens=1_000, output_tokens=500), catalog)
    assert cost.other_usd == Decimal("0.012")
    assert cost.total_usd == Decimal("0.001") + Decimal("0.0005") + Decimal("0.012")


def test_anthropic_cache_write_and_read(catalog):
    # claude-3-5-sonnet: $3 input, $3.75 5-minute cache write, $6 1-hour write, $0.30 read, $15 output.
    cost = price_call(
        call(
            "anthropic",
            "claude-3-5-sonnet-latest",
            input_tokens=2_000,
            cache_write_tokens=10_000,
            cache_read_tokens=50_000,
            output_tokens=1_000,
            extra_usage={"cache_write_1h_tokens": 4_000},
        ),
        catalog,
    )
    assert cost.input_usd == Decimal("0.006")
    assert cost.cache_write_usd == Decimal("0.0375") + Decimal("0.024")  # 5-minute + 1-hour writes
    assert cost.cache_read_usd == Decimal("0.015")
    assert cost.output_usd == Decimal("0.015")
    assert cost.total_usd == Decimal("0.0975")


def test_gemini_just_below_the_long_context_tier(catalog):
    # gemini-2.5-pro: input $1.25, cached $0.125, output $10 up to 200k prompt tokens.
    # 150,000 + 50,000 cached = 200,000 prompt tokens: not above the threshold.
    cost = price_call(
        call("google", "gemini-2.5-pro", input_tokens=150_000, cache_read_tokens=50_000, output_tokens=1_000), catalog
    )
    assert cost.input_usd == Decimal("0.1875")
    assert cost.cache_read_usd == Decimal("0.00625")
    assert cost.output_usd == Decimal("0.01")
    assert cost.total_usd == Decimal("0.20375")


def test_gemini_just_above_the_long_context_tier_reprices_everything(catalog):
    # 200,001 prompt tokens: every token at the long-context rates $2.50 / $0.25 / $15.
    cost = price_call(
        call("google", "gemini-2.5-pro", input_tokens=150_001, cache_read_tokens=50_000, output_tokens=1_000), catalog
    )
    assert cost.input_usd == Decimal("0.3750025")
    assert cost.cache_read_usd == Decimal("0.0125")
    assert cost.output_usd == Decimal("0.015")
    assert cost.total_usd == Decimal("0.4025025")


def test_gemini_provider_alias(catalog):
    # adapters may say "gemini" for Google's API; genai-prices maps it to google.
    assert price_call(call("gemini", "gemini-2.5-pro", input_tokens=1_000), catalog).total_usd == Decimal("0.00125")


def test_override_priced_local_model():
    catalog = PriceCatalog([override("ollama", "llama3*", "2026-01-01", input="0.05", output="0.10", request="0.0001")])
    cost = price_call(call("ollama", "llama3:8b", input_tokens=1_000_000, output_tokens=500_000), catalog)
    assert cost.priced
    assert cost.input_usd == Decimal("0.05")
    assert cost.output_usd == Decimal("0.05")
    assert cost.other_usd == Decimal("0.0001")
    assert cost.total_usd == Decimal("0.1001")
    assert cost.price_source == FILE_SOURCE
    assert cost.price_version.startswith("override:")


def test_local_model_without_override_is_unpriced_not_free(catalog):
    cost = price_call(call("ollama", "llama3", input_tokens=100, output_tokens=100), catalog)
    assert not cost.priced
    assert cost.total_usd is None


def test_price_change_at_a_timestamp():
    change = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
    catalog = PriceCatalog(
        [
            override("ollama", "llama3", "2026-01-01", input="0.05", output="0.10"),
            override("ollama", "llama3", change, input="0.08", output="0.16"),
        ]
    )
    before = price_call(call("ollama", "llama3", change - timedelta(microseconds=1), input_tokens=1_000_000), catalog)
    after = price_call(call("ollama", "llama3", change, input_tokens=1_000_000), catalog)
    assert before.input_usd == Decimal("0.05")
    assert after.input_usd == Decimal("0.08")
    assert before.price_version != after.price_version


def test_unknown_model_is_unpriced_never_zero(catalog):
    event = call("openai", "gpt-unknown-9000", input_tokens=1_000, output_tokens=1_000)
    cost = price_call(event, catalog)
    assert cost.priced is False
    amounts = [cost.input_usd, cost.cache_read_usd, cost.cache_write_usd, cost.output_usd, cost.reasoning_usd]
    assert amounts + [cost.other_usd, cost.total_usd, cost.credits] == [None] * 8
    assert cost.unpriced_reason == f"no price for openai/gpt-unknown-9000 at {WHEN.isoformat()}"


def test_known_free_model_is_priced_zero(catalog):
    cost = price_call(call("openai", "omni-moderation-latest", input_tokens=5_000), catalog)
    assert cost.priced is True
    assert cost.total_usd == 0
