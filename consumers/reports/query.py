"""Building report queries: where-clauses with server-side parameters, rollup selection, and
the shared aggregate expressions.

Only fixed strings from this module are spliced into SQL; every caller-supplied value travels
as ``{name:Type}`` in ``Where.params``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from consumers.clickhouse.rollups import DAILY, HOURLY
from consumers.clickhouse.store import Store
from consumers.reports.base import BUCKETS, ReportParams, ReportResult, Section

T64 = "DateTime64(3, 'UTC')"

#: Cost of a group over a rollup: NULL when it has calls but none is priced (never $0).
ROLLUP_COST = "if(sum(r.priced_calls) > 0 OR sum(r.calls) = 0, sum(r.cost_usd), NULL)"
ROLLUP_CREDITS = "if(sum(r.priced_calls) > 0 OR sum(r.calls) = 0, sum(r.credits), NULL)"
ROLLUP_UNPRICED = "toInt64(sum(r.calls)) - sum(r.priced_calls)"
ROLLUP_PER_1K = "if(sum(r.priced_tokens) > 0, sum(r.cost_usd) * 1000 / sum(r.priced_tokens), NULL)"

#: The same over raw rows of ``ai_calls FINAL``.
RAW_COST = "if(countIf(priced) > 0 OR count() = 0, sumIf(ifNull(cost_total_usd, 0), priced), NULL)"
RAW_UNPRICED = "countIf(NOT priced)"


@dataclass
class Where:
    """AND-ed conditions plus the parameters they reference."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, **params: Any) -> "Where":
        self.clauses.append(clause)
        self.params.update(params)
        return self

    @property
    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.clauses)) if self.clauses else ""

    def also(self, clause: str, **params: Any) -> "Where":
        """A copy with one more condition."""
        copy = Where(list(self.clauses), dict(self.params))
        return copy.add(clause, **params)


@dataclass(frozen=True)
class Rollup:
    table: str
    time_col: str
    has_user: bool


HOURLY_ROLLUP = Rollup(HOURLY, "hour", False)
DAILY_ROLLUP = Rollup(DAILY, "day", True)


def _day_aligned(value: datetime | None) -> bool:
    return value is None or value.time() == time(0)


def pick_rollup(params: ReportParams, *, need_user: bool = False, need_hour: bool = False) -> Rollup:
    """The daily rollup when the range is whole days (or a user breakdown is needed), else hourly.

    Hourly ranges are widened to whole hours, daily ones to whole days."""
    if need_user:
        return DAILY_ROLLUP
    if need_hour or params.granularity == "hour" or not (_day_aligned(params.start) and _day_aligned(params.end)):
        return HOURLY_ROLLUP
    return DAILY_ROLLUP


def rollup_where(params: ReportParams, rollup: Rollup) -> Where:
    """Time range and account (and the dimension filters a rollup has)."""
    w = Where()
    col = rollup.time_col
    if rollup.time_col == "day":
        if params.start:
            w.add(f"{col} >= toDate({{start:{T64}}})", start=params.start)
        if params.end:
            w.add(f"{col} < toDate({{end:{T64}}} - INTERVAL 1 MILLISECOND) + 1", end=params.end)
    else:
        if params.start:
            w.add(f"{col} >= toStartOfHour({{start:{T64}}})", start=params.start)
        if params.end:
            w.add(f"{col} < {{end:{T64}}}", end=params.end)
    _dimension_filters(w, params, user=rollup.has_user)
    return w


def raw_where(params: ReportParams) -> Where:
    """Time range, account and dimension filters over ``ai_calls``."""
    w = Where()
    if params.start:
        w.add(f"occurred_at >= {{start:{T64}}}", start=params.start)
    if params.end:
        w.add(f"occurred_at < {{end:{T64}}}", end=params.end)
    _dimension_filters(w, params, user=True)
    if params.success is not None:
        w.add("success = {success:Bool}", success=params.success)
    return w


def _dimension_filters(w: Where, params: ReportParams, *, user: bool) -> None:
    if params.account_id is not None:
        w.add("account_id = {account_id:String}", account_id=params.account_id)
    for name in ("prompt_type", "operation", "provider", "model") + (("user_id",) if user else ()):
        value = getattr(params, name)
        if value is not None:
            w.add(f"{name} = {{{name}:String}}", **{name: value})


def bucket(params: ReportParams, col: str) -> str:
    """Time bucket expression of the requested granularity (from a whitelist)."""
    return BUCKETS[params.granularity].format(col=col)


#: Report SQL reads rollup columns through the alias ``r`` (``sum(r.calls) AS calls``): an output
#: alias never shadows the column it aggregates. ORDER BY an output column needs an outer SELECT.


def section(store: Store, name: str, title: str, sql: str, params: dict[str, Any]) -> Section:
    columns, rows = store.rows(sql, params)
    if not columns:  # the embedded engine returns no column names with zero rows
        columns = [r[0] for r in store.rows(f"DESCRIBE ({sql})", params)[1]]
    return Section(name, title, columns, [list(r) for r in rows])


def result_from(name: str, main: Section, sections: list[Section], **notes: Any) -> ReportResult:
    return ReportResult(name, main.columns, main.rows, sections, notes)
