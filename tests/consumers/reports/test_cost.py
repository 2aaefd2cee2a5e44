from datetime import datetime, timezone
from decimal import Decimal

import pytest

from consumers.reports import ReportParams, UnknownReport, render_table, run_report
from tests.consumers.reports.seeding import call, insert_calls

T0 = datetime(2026, 3, 2, 10, 15, tzinfo=timezone.utc)


@pytest.fixture
def seeded(store):
    insert_calls(store, [
        call(T0, model="gpt-4o", prompt_type="chat", cost_total_usd=Decimal("0.000123456789")),
        call(T0, model="gpt-4o", prompt_type="summarize", cost_total_usd=Decimal("1.1")),
        call(T0, model="mystery-1", prompt_type="chat", priced=False),
        call(T0, model="gpt-4o", account_id="other", cost_total_usd=Decimal("5")),
    ])
    return store


def test_totals_are_exact_decimals_and_unpriced_calls_are_counted_apart(seeded):
    result = run_report(seeded, "cost", ReportParams(account_id="acme"))
    totals = result.dicts()[0]
    assert totals["calls"] == 3
    assert totals["cost_usd"] == Decimal("1.100123456789")
    assert totals["unpriced_calls"] == 1
    assert totals["total_tokens"] == 450


def test_a_model_without_prices_has_no_cost_rather_than_zero(seeded):
    result = run_report(seeded, "cost", ReportParams(account_id="acme"))
    by_model = {r[1]: dict(zip(result.section("by_model").columns, r)) for r in result.section("by_model").rows}
    assert by_model["mystery-1"]["cost_usd"] is None
    assert by_model["mystery-1"]["unpriced_calls"] == 1
    assert by_model["gpt-4o"]["cost_usd"] == Decimal("1.100123456789")
    assert "unpriced" in render_table(result)


def test_cost_by_prompt_type_and_account_isolation(seeded):
    result = run_report(seeded, "cost", ReportParams(account_id="acme"))
    by_type = {r[0]: r for r in result.section("by_prompt_type").rows}
    assert set(by_type) == {"chat", "summarize"}
    everyone = run_report(seeded, "cost", ReportParams()).dicts()[0]
    assert everyone["cost_usd"] == Decimal("6.100123456789")


def test_time_range_excludes_calls_outside_it(seeded):
    later = ReportParams(start=datetime(2026, 3, 3, tzinfo=timezone.utc), end=datetime(2026, 3, 4, tzinfo=timezone.utc))
    totals = run_report(seeded, "cost", later).dicts()[0]
    assert totals["calls"] == 0
    assert totals["cost_usd"] == 0


def test_json_keeps_money_exact_and_csv_has_a_header(seeded):
    result = run_report(seeded, "cost", ReportParams(account_id="acme"))
    assert result.to_json()["rows"][0]["cost_usd"] == "1.100123456789"
    lines = result.to_csv("by_model").splitlines()
    assert lines[0].startswith("provider,model,calls")
    assert any(line.startswith("openai,mystery-1,1,150,,1") for line in lines)


def test_unknown_report_names_the_known_ones(store):
    with pytest.raises(UnknownReport, match="cost"):
        run_report(store, "nope", ReportParams())
