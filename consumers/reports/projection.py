"""``projection``: projected cost from the average day of the last 7 days (from the hourly rollup).

The window is the 7 x 24 hours before ``end`` (default: now). Projections multiply the daily
average by 1, 7, 30, 90 and 365 days. Unpriced calls are not projected; they are counted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, Section, report
from consumers.reports.query import HOURLY_ROLLUP, ROLLUP_COST, ROLLUP_UNPRICED, result_from, rollup_where, section

BASED_ON_DAYS = 7
HORIZONS = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
_PLACES = Decimal("1e-12")


def per_day(cost) -> Decimal | None:
    """Daily average of a 7-day cost, to 12 decimal places (the table's scale)."""
    return None if cost is None else (Decimal(cost) / BASED_ON_DAYS).quantize(_PLACES)


def window(params: ReportParams) -> ReportParams:
    """The last 7 days before ``params.end`` (or now), whole hours."""
    end = params.end or datetime.now(timezone.utc)
    end = end.replace(minute=0, second=0, microsecond=0) + (timedelta(hours=1) if params.end is None else timedelta())
    return replace(params, start=end - timedelta(days=BASED_ON_DAYS), end=end)


def project(store: Store, params: ReportParams) -> tuple[Section, Section]:
    """(summary row, per-model rows) of the projection."""
    recent = window(params)
    where = rollup_where(recent, HOURLY_ROLLUP)
    source = f"FROM {HOURLY_ROLLUP.table} AS r {where.sql}"
    base = section(store, "projection", "Projected cost (from the last 7 days)",
                   f"SELECT sum(r.calls) AS calls, {ROLLUP_COST} AS cost_usd, {ROLLUP_UNPRICED} AS unpriced_calls "
                   f"{source}", where.params)
    calls, cost, unpriced = base.rows[0]
    daily = per_day(cost)
    columns = ["window_start", "window_end", "based_on_days", "calls", "unpriced_calls", "daily_avg_cost_usd"]
    columns += [f"projected_{name}_usd" for name in HORIZONS]
    row = [recent.start, recent.end, BASED_ON_DAYS, calls, unpriced, daily]
    row += [None if daily is None else daily * days for days in HORIZONS.values()]
    summary = Section("projection", base.title, columns, [row])
    by_model = section(
        store, "projection_by_model", "Projection by model",
        f"SELECT * FROM (SELECT provider, model, sum(r.calls) AS calls, {ROLLUP_COST} AS cost_usd {source} "
        "GROUP BY provider, model) ORDER BY cost_usd DESC NULLS LAST", where.params)
    by_model.columns = ["provider", "model", "calls_last_7d", "daily_avg_cost_usd", "projected_month_usd"]
    by_model.rows = [[p, m, c, per_day(v), None if v is None else per_day(v) * 30] for p, m, c, v in by_model.rows]
    return summary, by_model


@report("projection", "Cost projection", "Daily average of the last 7 days, projected to a week, month, "
        "quarter and year.")
def projection(store: Store, params: ReportParams) -> ReportResult:
    summary, by_model = project(store, params)
    return result_from("projection", summary, [by_model])
