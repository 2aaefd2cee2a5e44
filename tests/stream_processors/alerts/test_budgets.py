from datetime import datetime, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas.alerts import AlertKind, Severity
from schemas.prompt_config import Budget
from stream_processors.alerts.budgets import add_spend, load_budgets_file, month_of

AT = datetime(2026, 11, 10, tzinfo=timezone.utc)
BUDGET = Budget(scope="account", account_id="acme", monthly_usd=Decimal(100))


def spend(amounts, budget=BUDGET, state=None, month="2026-11"):
    alerts = []
    for amount in amounts:
        state, raised = add_spend(state, budget.key, month, Decimal(amount), budget, AT)
        alerts += raised
    return state, alerts


def test_each_threshold_fires_once_in_a_month():
    state, alerts = spend(["10", "39.99", "0.01", "20", "9.99", "0.01", "30", "5"])
    assert [a.figures["threshold_pct"] for a in alerts] == [50, 80, 100]
    assert [a.severity for a in alerts] == [Severity.INFO, Severity.WARNING, Severity.CRITICAL]
    assert state.spent_usd == Decimal("115") and state.fired == (50, 80, 100)
    assert alerts[0].kind == AlertKind.BUDGET_THRESHOLD and alerts[0].subject == "account=acme"
    assert alerts[0].figures["spent_usd"] == "50.00"


def test_crossing_several_thresholds_at_once_reports_the_highest():
    _, alerts = spend(["85"])
    assert [a.figures["threshold_pct"] for a in alerts] == [80]


def test_a_new_month_starts_afresh_and_late_spend_of_a_closed_month_is_not_added():
    state, _ = spend(["60"])
    state, alerts = spend(["55"], state=state, month="2026-12")
    assert state.month == "2026-12" and state.spent_usd == Decimal(55) and len(alerts) == 1
    state, alerts = spend(["1000"], state=state, month="2026-11")
    assert state.spent_usd == Decimal(55) and alerts == []


def test_changing_the_budget_rearms_the_thresholds_against_the_new_amount():
    state, _ = spend(["60"])
    bigger = BUDGET.model_copy(update={"monthly_usd": Decimal(1000)})
    state, alerts = spend(["0"], bigger, state)
    assert alerts == [] and state.limit_usd == Decimal(1000)
    smaller = BUDGET.model_copy(update={"monthly_usd": Decimal(50)})
    _, alerts = spend(["0"], smaller, state)
    assert [a.figures["threshold_pct"] for a in alerts] == [100]


def test_without_a_budget_the_total_is_kept_and_nothing_fires():
    state, alerts = add_spend(None, BUDGET.key, "2026-11", Decimal(500), None, AT)
    assert alerts == [] and state.spent_usd == Decimal(500)
    state, alerts = add_spend(state, BUDGET.key, "2026-11", Decimal(0), BUDGET, AT)
    assert [a.figures["threshold_pct"] for a in alerts] == [100]


def test_alert_ids_are_stable_for_the_same_month_threshold_and_amount():
    _, a = spend(["50"])
    _, b = spend(["70"])
    assert a[0].alert_id == b[0].alert_id


def test_budget_subjects_and_validation():
    user = Budget(scope="user", account_id="acme", user_id="u:1", monthly_usd=Decimal(5), thresholds=(100, 50))
    assert user.thresholds == (50, 100) and user.subject == "account=acme user=u:1"
    assert user.key != Budget(scope="user", account_id="acme:u", user_id="1", monthly_usd=Decimal(5)).key
    with pytest.raises(ValidationError, match="needs user_id"):
        Budget(scope="user", account_id="acme", monthly_usd=Decimal(5))
    with pytest.raises(ValidationError):
        Budget(scope="account", account_id="acme", monthly_usd=Decimal(0))


def test_budgets_file_in_yaml_or_json(tmp_path):
    yml = tmp_path / "b.yaml"
    yml.write_text("budgets:\n  - {scope: account, account_id: acme, monthly_usd: '100'}\n"
                   "  - {scope: prompt_type, prompt_type: summarise, monthly_usd: 12.5, thresholds: [90]}\n")
    budgets = load_budgets_file(yml)
    assert [b.key for b in budgets] == ["account:acme", "prompt_type:summarise"]
    assert budgets[1].monthly_usd == Decimal("12.5")
    js = tmp_path / "b.json"
    js.write_text('[{"scope": "account", "account_id": "a", "monthly_usd": "1"},'
                  ' {"scope": "account", "account_id": "a", "monthly_usd": "2"}]')
    with pytest.raises(ValueError, match="defined twice"):
        load_budgets_file(js)
    assert load_budgets_file(None) == []


def test_month_of_uses_utc_calendar_months():
    assert month_of(datetime(2026, 1, 31, 23, 59, tzinfo=timezone.utc)) == "2026-01"
