"""Building report queries: where-clauses with server-side parameters, rollup selection, and
the shared aggregate expressions.

Only fixed strings from this module are spliced into SQL; every caller-supplied value travels
as ``{name:Type}`` in ``Where.params``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from consumers.clickhouse.rollups import DAILY, DAILY_BY_MODEL, HOURLY, SPECS
from consumers.clickhouse.store import Store
from consumers.reports.base import BUCKETS, ReportError, ReportParams, ReportResult, Section

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
    dims: frozenset[str]


def _rollup(table: str) -> Rollup:
    spec = SPECS[table]
    return Rollup(table, spec.bucket_col, frozenset(spec.dims))


HOURLY_ROLLUP = _rollup(HOURLY)
DAILY_ROLLUP = _rollup(DAILY)
DAILY_BY_MODEL_ROLLUP = _rollup(DAILY_BY_MODEL)
#: Smallest first.
_BY_SIZE = (DAILY_BY_MODEL_ROLLUP, HOURLY_ROLLUP, DAILY_ROLLUP)
FILTER_DIMS = ("prompt_type", "operation", "provider", "model", "user_id")


def _day_aligned(value: datetime | None) -> bool:
    return value is None or value.time() == time(0)


def pick_rollup(params: ReportParams, need: tuple[str, ...] = (), *, need_hour: bool = False) -> Rollup:
    """The smallest rollup with the dimensions needed (``need`` plus the filters set) at the time
    resolution needed: hourly when the granularity is ``hour`` or a bound is not midnight.

    Hourly ranges are widened to whole hours, daily ones to whole days. A user breakdown or filter
    (only in the daily rollup) with an hour-level range gets whole days."""
    dims = set(need) | {d for d in FILTER_DIMS if getattr(params, d) is not None}
    hourly = need_hour or params.granularity == "hour" or not (_day_aligned(params.start) and
                                                               _day_aligned(params.end))
    for rollup in _BY_SIZE:
        if dims <= rollup.dims and (rollup.time_col == "hour" or not hourly):
            return rollup
    return DAILY_ROLLUP if "user_id" in dims and not need_hour else HOURLY_ROLLUP


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
    _dimension_filters(w, params, rollup.dims)
    return w


def raw_where(params: ReportParams) -> Where:
    """Time range, account and dimension filters over ``ai_calls``."""
    w = Where()
    if params.start:
        w.add(f"occurred_at >= {{start:{T64}}}", start=params.start)
    if params.end:
        w.add(f"occurred_at < {{end:{T64}}}", end=params.end)
    _dimension_filters(w, params, frozenset(FILTER_DIMS))
    if params.success is not None:
        w.add("success = {success:Bool}", success=params.success)
    return w


def _dimension_filters(w: Where, params: ReportParams, dims: frozenset[str]) -> None:
    if params.account_id is not None:
        w.add("account_id = {account_id:String}", account_id=params.account_id)
    for name in FILTER_DIMS:
        value = getattr(params, name)
        if value is None:
            continue
        if name not in dims:
            raise ReportError(f"this report cannot filter by {name} over the range asked")
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
