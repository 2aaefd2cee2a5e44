"""Override prices: the file format, its errors, the pricing topic, tombstones and precedence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from schemas.pricing import PriceOverride
from stream_processors.pricing import FILE_SOURCE, TOPIC_SOURCE, PriceCatalog, PricingFileError, load_catalog, price_call
from stream_processors.pricing.loading import load_overrides

from .support import WHEN, call, override

YAML = """\
- provider: ollama
  model: llama3*
  effective_from: 2026-01-01
  input: 0.1
  output: 0.2
  cache_read: 0.025
  request: 0.0003
- provider: openai
  model: gpt-4o
  effective_from: 2026-05-01T00:00:00Z
  effective_to: 2026-07-01T00:00:00Z
  input: 2.0
  output: 8.0
  note: negotiated discount
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yaml_file_with_exact_decimals_and_dates(tmp_path):
    overrides = load_overrides(write(tmp_path, "prices.yaml", YAML))
    first = overrides[0]
    assert first.input == Decimal("0.1") and str(first.cache_read) == "0.025"
    assert first.effective_from == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert first.key == "ollama/llama3*/2026-01-01T00:00:00Z"
    assert overrides[1].effective_to == datetime(2026, 7, 1, tzinfo=timezone.utc)


def test_json_file_is_read_the_same(tmp_path):
    data = [{"provider": "ollama", "model": "mistral", "effective_from": "2026-01-01T00:00:00Z", "input": 0.1, "output": 0.3}]
    (entry,) = load_overrides(write(tmp_path, "prices.json", json.dumps(data)))
    assert entry.input == Decimal("0.1") and entry.output == Decimal("0.3")


def test_load_catalog_from_settings_prices_with_the_file(tmp_path):
    from ailedger.settings import WorkerSettings

    settings = WorkerSettings(pricing_file=write(tmp_path, "prices.yaml", YAML))
    catalog = load_catalog(settings)
    cost = price_call(call("ollama", "llama3.1", input_tokens=1_000_000, cache_read_tokens=1_000_000), catalog)
    assert cost.total_usd == Decimal("0.1") + Decimal("0.025") + Decimal("0.0003")
    assert cost.price_source == FILE_SOURCE
    discounted = price_call(call("openai", "gpt-4o", input_tokens=1_000_000), catalog)
    assert discounted.input_usd == Decimal("2.0")
    after_window = price_call(call("openai", "gpt-4o", datetime(2026, 7, 1, tzinfo=timezone.utc), input_tokens=1_000_000), catalog)
    assert after_window.input_usd == Decimal("2.5") and after_window.price_source == "genai-prices"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 0.1}",
         "entry 1 (ollama/llama3): output: required (use 0 for a free bucket)"),
        ("- {provider: ollama, model: a, effective_from: 2026-01-01, input: 1, output: 1}\n"
         "- {provider: ollama, model: b, effective_from: 2026-01-01, input: -1, output: 1}",
         "entry 2 (ollama/b): input: Input should be greater than or equal to 0"),
        ("- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 1, outptu: 1}",
         "entry 1 (ollama/llama3): outptu: Extra inputs are not permitted"),
        ("- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 1, output: lots}",
         "entry 1 (ollama/llama3): output: Input should be a valid decimal"),
        ("- {provider: ollama, model: llama3, effective_from: 2026-02-01, effective_to: 2026-01-01, input: 1, output: 1}",
         "entry 1 (ollama/llama3): effective_to: must be after effective_from"),
        ("- {provider: ollama, model: llama3, input: 1, output: 1}", "entry 1 (ollama/llama3): effective_from: Field required"),
        ("provider: ollama", "expected a list of price entries, got dict"),
        ("- [1, 2]", "entry 1: expected a mapping, got list"),
        ("- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 1, output: 1}\n"
         "- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 2, output: 2}",
         "entry 2 (ollama/llama3): same provider, model and effective_from as entry 1"),
        ("- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 1, output: 1, deleted: true}",
         "entry 1 (ollama/llama3): deleted: not allowed in a file"),
        ("- {provider: ollama, model: [llama3", "not valid YAML"),
    ],
)
def test_bad_files_name_the_entry_and_field(tmp_path, text, expected):
    path = write(tmp_path, "prices.yaml", text)
    with pytest.raises(PricingFileError) as info:
        load_catalog(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(PricingFileError, match="cannot read"):
        load_catalog(tmp_path / "nope.yaml")


def test_two_files_defining_the_same_override_are_refused(tmp_path):
    entry = "- {provider: ollama, model: llama3, effective_from: 2026-01-01, input: 1, output: 1}"
    with pytest.raises(PricingFileError, match="same override ollama/llama3/2026-01-01T00:00:00Z"):
        load_catalog([write(tmp_path, "a.yaml", entry), write(tmp_path, "b.yaml", entry)])


def test_topic_override_reprices_a_catalog_model_from_its_effective_time():
    catalog = PriceCatalog()
    start = WHEN + timedelta(hours=1)
    catalog.apply(override("openai", "gpt-4o", start, input="1", output="4"))
    before = price_call(call("openai", "gpt-4o", WHEN, input_tokens=1_000_000), catalog)
    after = price_call(call("openai", "gpt-4o", start, input_tokens=1_000_000), catalog)
    assert (before.input_usd, before.price_source) == (Decimal("2.5"), "genai-prices")
    assert (after.input_usd, after.price_source) == (Decimal("1"), TOPIC_SOURCE)


def test_tombstone_and_deleted_remove_an_override():
    catalog = PriceCatalog()
    price = override("ollama", "llama3", "2026-01-01", input="0.1", output="0.1")
    event = call("ollama", "llama3", input_tokens=1_000)
    catalog.apply_message(price.key.encode(), price.model_dump_json().encode())
    assert price_call(event, catalog).priced
    catalog.apply_message(price.key.encode(), None)  # Kafka tombstone
    assert not price_call(event, catalog).priced
    catalog.apply(price)
    catalog.apply(price.model_copy(update={"deleted": True}))
    assert not price_call(event, catalog).priced
    assert catalog.overrides() == []


def test_a_record_in_the_wire_codec_round_trips():
    from schemas.codec import dumps

    price = override("selfhost", "tuned-*", "2024-01-01T06:30:00Z", input="0.123456789", output="1", reasoning="2")
    catalog = PriceCatalog()
    catalog.apply_message(price.key.encode(), dumps(price))
    assert catalog.overrides() == [(TOPIC_SOURCE, price)]
    cost = price_call(call("selfhost", "tuned-7b", input_tokens=1_000_000, reasoning_tokens=1_000_000), catalog)
    assert (cost.input_usd, cost.reasoning_usd) == (Decimal("0.123456789"), Decimal("2"))


def test_a_record_whose_key_is_not_its_override_is_refused():
    price = override("ollama", "llama3", "2026-01-01", input="0.1", output="0.1")
    with pytest.raises(ValueError, match="does not match"):
        PriceCatalog().apply_message(b"ollama/other/2026-01-01T00:00:00Z", price.model_dump_json())


def test_precedence_exact_then_latest_then_topic():
    glob = override("ollama", "llama*", "2026-05-01", input="9", output="9")
    exact_old = override("ollama", "llama3", "2026-01-01", input="1", output="1")
    exact_new = override("ollama", "llama3", "2026-03-01", input="2", output="2")
    catalog = PriceCatalog([glob, exact_old, exact_new])
    event = call("ollama", "llama3", input_tokens=1_000_000)
    assert price_call(event, catalog).input_usd == Decimal("2")  # exact beats a later glob; latest exact wins
    catalog.apply(override("ollama", "llama3", "2026-03-01", input="3", output="3"))
    assert price_call(event, catalog).input_usd == Decimal("3")  # same window: the topic beats the file
    assert price_call(call("ollama", "llama2", input_tokens=1_000_000), catalog).input_usd == Decimal("9")


def test_names_match_case_insensitively():
    catalog = PriceCatalog([override("Ollama", "Llama3", "2026-01-01", input="1", output="1")])
    assert price_call(call("OLLAMA", "LLAMA3", input_tokens=1_000_000), catalog).total_usd == Decimal("1")


def test_override_version_is_stable_and_changes_with_the_price():
    a = override("ollama", "llama3", "2026-01-01", input="0.10", output="0.2")
    assert a.version == override("ollama", "llama3", "2026-01-01", input="0.1", output="0.20").version
    assert a.version != override("ollama", "llama3", "2026-01-01", input="0.11", output="0.2").version


def test_override_times_without_zone_are_utc():
    naive = PriceOverride(provider="p", model="m", effective_from="2026-01-01T05:00:00", input=1, output=1)
    assert naive.effective_from == datetime(2026, 1, 1, 5, tzinfo=timezone.utc)
