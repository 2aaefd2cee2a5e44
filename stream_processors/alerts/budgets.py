"""Monthly spend against budgets: the running total of one subject and its threshold alerts.

``add_spend(state, key, month, amount, budget, at)`` adds priced spend of one calendar month
(UTC, by event time) to the subject's running total and returns the threshold alerts it crosses.
The total is kept whether a budget exists or not, so a budget set mid-month sees the month so far.

* A new month starts the total (and the fired thresholds) afresh; spend of an earlier month
  arriving late is not added (the month is closed here; ClickHouse has the exact history).
* Each threshold (50/80/100 % by default) fires once per month and budget amount: when several are
  crossed at once only the highest is reported. Changing the amount re-arms the thresholds, so
  the next call reports where the spend stands against the new budget.
* Alert id = ``stable_alert_id("budget_threshold", key, "<month>|<pct>|<amount>")``.

All pure; the agents own the state (one owner per subject, see ``stream_processors.alerts.agent``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.alerts import Alert, AlertKind, Severity, stable_alert_id
from schemas.prompt_config import Budget

ZERO = Decimal(0)


class SpendState(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    month: str = ""
    spent_usd: Decimal = ZERO
    limit_usd: Decimal | None = None  # the amount the fired thresholds refer to
    fired: tuple[int, ...] = ()
    applied: dict[str, int] = {}  # replay guard: source position -> last offset applied


_MONTHS: dict[int, str] = {}  # year * 100 + month -> "YYYY-MM" (a handful of months in practice)


def month_of(at: date) -> str:
    """The calendar month of ``at`` (a date, or a UTC datetime), ``"YYYY-MM"`` (formatted once per month)."""
    key = at.year * 100 + at.month
    month = _MONTHS.get(key)
    if month is None:
        if len(_MONTHS) >= 1024:
            _MONTHS.clear()
        month = _MONTHS[key] = f"{at.year:04d}-{at.month:02d}"
    return month


def _severity(pct: int) -> Severity:
    if pct >= 100:
        return Severity.CRITICAL
    return Severity.WARNING if pct >= 80 else Severity.INFO


def add_spend(state: SpendState | None, key: str, month: str, amount: Decimal, budget: Budget | None,
              at: datetime, event_id: str | None = None) -> tuple[SpendState, list[Alert]]:
    state = state or SpendState(key=key)
    if month < state.month:
        return state, []
    if month > state.month:
        state = state.model_copy(update={"month": month, "spent_usd": ZERO, "fired": ()})
    state = state.model_copy(update={"spent_usd": state.spent_usd + amount})
    return check(state, budget, at, event_id)


def check(state: SpendState, budget: Budget | None, at: datetime,
          event_id: str | None = None) -> tuple[SpendState, list[Alert]]:
    """Threshold alerts of ``state`` against ``budget`` not yet fired this month."""
    if budget is None:
        return state, []
    if state.limit_usd != budget.monthly_usd:
        state = state.model_copy(update={"limit_usd": budget.monthly_usd, "fired": ()})
    crossed = [p for p in budget.thresholds
               if p not in state.fired and state.spent_usd * 100 >= budget.monthly_usd * p]
    if not crossed:
        return state, []
    pct = max(crossed)
    used = state.spent_usd / budget.monthly_usd * 100
    alert = Alert(
        alert_id=stable_alert_id(AlertKind.BUDGET_THRESHOLD.value, budget.key,
                                 f"{state.month}|{pct}|{budget.monthly_usd}"),
        kind=AlertKind.BUDGET_THRESHOLD,
        severity=_severity(pct),
        subject=budget.subject,
        account_id=budget.account_id,
        message=f"{budget.subject} has spent ${state.spent_usd} in {state.month}: "
                f"{used:.1f}% of its ${budget.monthly_usd} monthly budget (threshold {pct}%)",
        figures={"spent_usd": str(state.spent_usd), "budget_usd": str(budget.monthly_usd), "threshold_pct": pct,
                 "used_pct": str(used.quantize(Decimal("0.01"))), "month": state.month, "budget_key": budget.key},
        occurred_at=at,
        event_id=event_id,
    )
    return state.model_copy(update={"fired": tuple(sorted({*state.fired, *crossed}))}), [alert]


def load_budgets_file(path: Path | None) -> list[Budget]:
    """Budgets from a YAML or JSON file: a list, or ``{"budgets": [...]}``. ``None`` -> none."""
    if path is None:
        return []
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        data: Any = yaml.safe_load(text)
    else:
        import orjson

        data = orjson.loads(text)
    if isinstance(data, dict):
        data = data.get("budgets", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of budgets or {{budgets: [...]}}")
    budgets = [Budget.model_validate(item) for item in data]
    keys = [b.key for b in budgets]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"{path}: budgets defined twice: {', '.join(duplicates)}")
    return budgets
