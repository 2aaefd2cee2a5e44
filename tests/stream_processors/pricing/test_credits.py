"""Credits: ratios per model, rounding modes and quantum, minimums, files and defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stream_processors.pricing import CreditRules, PriceCatalog, PricingFileError, price_call

from .support import call


def credits(rules: CreditRules, tokens: int, model: str = "gpt-4o", operation: str = "") -> Decimal:
    return rules.credits(tokens, "openai", model, operation)


def test_defaults_one_credit_per_thousand_tokens_rounded_up_minimum_zero():
    rules = CreditRules()
    assert [credits(rules, n) for n in (0, 1, 999, 1000, 1001, 2500)] == [0, 1, 1, 1, 2, 3]


def test_price_call_counts_every_bucket_once_with_default_rules():
    event = call("openai", "o3-mini", input_tokens=400, cache_read_tokens=300, output_tokens=200, reasoning_tokens=101)
    assert price_call(event, PriceCatalog()).credits == Decimal(2)  # 1,001 tokens


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("up", ["0", "0.5", "0.5", "1.0", "1.0"]), ("down", ["0", "0", "0.5", "0.5", "0.5"]), ("nearest", ["0", "0", "0.5", "0.5", "1.0"])],
)
def test_rounding_modes_to_a_quantum(rounding, expected):
    # 100 tokens per credit, quantum 0.5 credit = 50 tokens: 0, 10, 50, 74, 75 tokens.
    rules = CreditRules(default_tokens_per_credit=100, rounding=rounding, quantum=Decimal("0.5"))
    got = [credits(rules, n) for n in (0, 10, 50, 74, 75)]
    assert got == [Decimal(x) for x in expected]


@pytest.mark.parametrize(("rounding", "expected"), [("up", 33), ("down", 32), ("nearest", 32)])
def test_non_integer_ratio(rounding, expected):
    rules = CreditRules(default_tokens_per_credit=Decimal("30.5"), rounding=rounding)
    assert credits(rules, 990) == expected  # 32.46 credits


def test_per_model_ratios_exact_provider_model_and_glob():
    rules = CreditRules(tokens_per_credit={"openai/gpt-4o": 50, "gpt-3.5*": 200, "o3-mini": 80})
    assert credits(rules, 1_000, "gpt-4o") == 20
    assert credits(rules, 1_000, "gpt-3.5-turbo") == 5
    assert credits(rules, 800, "o3-mini") == 10
    assert credits(rules, 1_000, "other") == 1


def test_minimums_global_and_per_operation():
    rules = CreditRules(min_credits=1, min_credits_per_operation={"image": 5, "cheap": 0})
    assert credits(rules, 0) == 1
    assert credits(rules, 10, operation="image") == 5
    assert credits(rules, 7_000, operation="image") == 7
    assert credits(rules, 0, operation="cheap") == 0


def test_rules_reach_price_call():
    rules = CreditRules(tokens_per_credit={"gpt-4o": 10}, min_credits=3)
    cost = price_call(call("openai", "gpt-4o", input_tokens=5), PriceCatalog(), rules)
    assert cost.credits == 3
    cost = price_call(call("openai", "gpt-4o", input_tokens=55), PriceCatalog(), rules)
    assert cost.credits == 6


def test_load_yaml_and_json_and_defaults(tmp_path):
    yaml_path = tmp_path / "credits.yaml"
    yaml_path.write_text("default_tokens_per_credit: 100\nrounding: nearest\nquantum: 0.1\ntokens_per_credit:\n  gpt-4o: 50\n")
    rules = CreditRules.load(yaml_path)
    assert rules.quantum == Decimal("0.1") and rules.tokens_per_credit == {"gpt-4o": Decimal(50)}
    assert credits(rules, 123) == Decimal("2.5")  # 2.46 -> 2.5
    json_path = tmp_path / "credits.json"
    json_path.write_text('{"min_credits": 2}')
    assert CreditRules.load(json_path).min_credits == 2
    assert CreditRules.load(None) == CreditRules()


def test_load_from_settings(tmp_path):
    from ailedger.settings import WorkerSettings

    path = tmp_path / "credits.yaml"
    path.write_text("rounding: down\n")
    assert CreditRules.load(WorkerSettings(credits_file=path)).rounding == "down"
    assert CreditRules.load(WorkerSettings()) == CreditRules()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rounding: sideways", "rounding: Input should be 'up', 'down' or 'nearest'"),
        ("default_tokens_per_credit: 0", "default_tokens_per_credit: Input should be greater than 0"),
        ("tokens_per_credit: {gpt-4o: -5}", "tokens_per_credit['gpt-4o'] = -5 must be a positive number"),
        ("min_credits_per_operation: {x: -1}", "min_credits_per_operation['x'] = -1 must be 0 or more"),
        ("quantom: 1", "quantom: Extra inputs are not permitted"),
        ("- 1", "expected a mapping of credit settings, got list"),
    ],
)
def test_bad_credit_files_name_the_field(tmp_path, text, expected):
    path = tmp_path / "credits.yaml"
    path.write_text(text)
    with pytest.raises(PricingFileError) as info:
        CreditRules.load(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
