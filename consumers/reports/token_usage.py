"""``token_usage``: token totals and breakdowns, trends and usage patterns (from rollups)."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import (
    ROLLUP_COST,
    ROLLUP_PER_1K,
    ROLLUP_UNPRICED,
    bucket,
    pick_rollup,
    result_from,
    rollup_where,
    section,
)

TOTALS = f"""
    sum(r.calls) AS calls,
    sum(r.input_tokens) AS input_tokens,
    sum(r.cache_read_tokens) AS cache_read_tokens,
    sum(r.cache_write_tokens) AS cache_write_tokens,
    sum(r.output_tokens) AS output_tokens,
    sum(r.reasoning_tokens) AS reasoning_tokens,
    sum(r.total_tokens) AS total_tokens,
    if(sum(r.calls) > 0, sum(r.total_tokens) / sum(r.calls), NULL) AS avg_tokens_per_call,
    if(sum(r.calls) > 0, 1 - sum(r.errors) / sum(r.calls), NULL) AS success_rate,
    if(sum(r.input_tokens) + sum(r.cache_read_tokens) > 0,
       (sum(r.output_tokens) + sum(r.reasoning_tokens)) / (sum(r.input_tokens) + sum(r.cache_read_tokens)),
       NULL) AS output_per_input,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens,
    {ROLLUP_UNPRICED} AS unpriced_calls"""

BREAKDOWN = f"""
    sum(r.calls) AS calls,
    sum(r.input_tokens) + sum(r.cache_read_tokens) + sum(r.cache_write_tokens) AS prompt_tokens,
    sum(r.output_tokens) + sum(r.reasoning_tokens) AS completion_tokens,
    sum(r.total_tokens) AS total_tokens,
    if(sum(r.calls) > 0, 1 - sum(r.errors) / sum(r.calls), NULL) AS success_rate,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens"""


def top(store: Store, name: str, title: str, dims: str, source: str, params: dict, limit: int):
    sql = (f"SELECT * FROM (SELECT {dims}, {BREAKDOWN} {source} GROUP BY {dims}) "
           f"ORDER BY total_tokens DESC, calls DESC LIMIT {int(limit)}")
    return section(store, name, title, sql, params)


@report("token_usage", "Token usage",
        "Token totals with breakdown; top models, operations and accounts; daily trend; hourly pattern.")
def token_usage(store: Store, params: ReportParams) -> ReportResult:
    rollup = pick_rollup(params)
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    totals = section(store, "totals", "Totals", f"SELECT {TOTALS} {source}", where.params)
    t = rollup.time_col
    ops = pick_rollup(params, ("operation",))
    ow = rollup_where(params, ops)
    sections = [
        top(store, "by_model", "Top models", "provider, model", source, where.params, min(params.limit, 10)),
        top(store, "by_operation", "Top operations", "operation", f"FROM {ops.table} AS r {ow.sql}", ow.params,
            min(params.limit, 10)),
        top(store, "by_account", "Top accounts", "account_id", source, where.params, min(params.limit, 15)),
        section(store, "trend", f"Trend by {params.granularity}",
                f"SELECT {bucket(params, t)} AS period, sum(r.calls) AS calls, sum(r.input_tokens) AS input_tokens, "
                f"sum(r.output_tokens) AS output_tokens, sum(r.total_tokens) AS total_tokens "
                f"{source} GROUP BY period ORDER BY period", where.params),
    ]
    hourly = pick_rollup(params, need_hour=True)
    hw = rollup_where(params, hourly)
    hsource = f"FROM {hourly.table} AS r {hw.sql}"
    sections.append(section(
        store, "hourly_pattern", "Usage by hour of day (UTC)",
        f"SELECT toHour(hour) AS hour_of_day, sum(r.calls) AS calls, sum(r.total_tokens) AS total_tokens "
        f"{hsource} GROUP BY hour_of_day ORDER BY hour_of_day", hw.params))
    sections.append(section(
        store, "heatmap", "Calls by weekday and hour (UTC; 1 = Monday)",
        f"SELECT toDayOfWeek(hour) AS weekday, toHour(hour) AS hour_of_day, sum(r.calls) AS calls, "
        f"sum(r.total_tokens) AS total_tokens {hsource} GROUP BY weekday, hour_of_day "
        f"ORDER BY weekday, hour_of_day", hw.params))
    return result_from("token_usage", totals, sections, source=rollup.table)
