"""Per-user cost: ``cost_summary`` (per period, per user, with a model breakdown) and
``users_ranked`` (every user ranked by cost; admin only). Both read the daily rollup, so ranges
are whole days (UTC)."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportError, ReportParams, ReportResult, report
from consumers.reports.query import ROLLUP_COST, ROLLUP_UNPRICED, bucket, pick_rollup, result_from, rollup_where, section

USAGE = f"""
    sum(r.calls) AS calls,
    sum(r.input_tokens) + sum(r.cache_read_tokens) + sum(r.cache_write_tokens) AS prompt_tokens,
    sum(r.output_tokens) + sum(r.reasoning_tokens) AS completion_tokens,
    sum(r.total_tokens) AS total_tokens,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_UNPRICED} AS unpriced_calls"""


@report("cost_summary", "Cost summary per user",
        "Cost per period (granularity day/week/month/quarter/year) per user, with a breakdown by model.")
def cost_summary(store: Store, params: ReportParams) -> ReportResult:
    if params.granularity == "hour":
        raise ReportError("cost_summary periods are day, week, month, quarter or year")
    rollup = pick_rollup(params, ("user_id",))
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    period = bucket(params, rollup.time_col)
    main = section(store, "summary", "Cost per period and user",
                   f"SELECT * FROM (SELECT {period} AS period, account_id, user_id, {USAGE} {source} "
                   "GROUP BY period, account_id, user_id) ORDER BY period DESC, cost_usd DESC NULLS LAST "
                   "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                   where.params | {"limit": params.limit, "offset": params.offset})
    breakdown = section(store, "by_model", "Breakdown by model",
                        f"SELECT * FROM (SELECT {period} AS period, account_id, user_id, provider, model, {USAGE} "
                        f"{source} GROUP BY period, account_id, user_id, provider, model) "
                        "ORDER BY period DESC, user_id, cost_usd DESC NULLS LAST LIMIT {limit:UInt32}",
                        where.params | {"limit": params.limit * 10})
    return result_from("cost_summary", main, [breakdown], period=params.granularity, source=rollup.table)


@report("users_ranked", "All users ranked by cost", "Every user's cost in the range, highest first (admin).",
        admin_only=True)
def users_ranked(store: Store, params: ReportParams) -> ReportResult:
    rollup = pick_rollup(params, ("user_id",))
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    main = section(store, "users", "Users ranked by cost",
                   f"SELECT row_number() OVER (ORDER BY ifNull(cost_usd, 0) DESC, calls DESC) AS rank, * FROM ("
                   f"SELECT account_id, user_id, {USAGE} {source} GROUP BY account_id, user_id) "
                   "ORDER BY rank LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                   where.params | {"limit": params.limit, "offset": params.offset})
    total = section(store, "total", "Platform total", f"SELECT {USAGE}, uniqExact(user_id) AS users {source}",
                    where.params)
    return result_from("users_ranked", main, [total], source=rollup.table)
