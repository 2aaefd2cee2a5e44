"""``cost``: total cost, calls and tokens, with cost by model and by prompt type.

Read from the rollups. Costs are exact Decimal sums of priced calls; calls without a price are
counted in ``unpriced_calls`` and a group with no priced call has cost NULL (never $0).
"""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import (
    ROLLUP_COST,
    ROLLUP_CREDITS,
    ROLLUP_PER_1K,
    ROLLUP_UNPRICED,
    pick_rollup,
    result_from,
    rollup_where,
    section,
)

TOTALS = f"""
    sum(r.calls) AS calls,
    sum(r.errors) AS errors,
    sum(r.input_tokens) AS input_tokens,
    sum(r.cache_read_tokens) + sum(r.cache_write_tokens) AS cache_tokens,
    sum(r.output_tokens) AS output_tokens,
    sum(r.reasoning_tokens) AS reasoning_tokens,
    sum(r.total_tokens) AS total_tokens,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_CREDITS} AS credits,
    {ROLLUP_UNPRICED} AS unpriced_calls,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens"""

GROUP = f"""
    sum(r.calls) AS calls,
    sum(r.total_tokens) AS total_tokens,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_UNPRICED} AS unpriced_calls,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens"""


@report("cost", "Cost", "Total cost, calls and tokens; cost by model and by prompt type.")
def cost_report(store: Store, params: ReportParams) -> ReportResult:
    rollup = pick_rollup(params)
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    totals = section(store, "totals", "Totals", f"SELECT {TOTALS} {source}", where.params)
    limit = {"limit": params.limit}
    by_model = section(
        store, "by_model", "Cost by model",
        f"SELECT * FROM (SELECT provider, model, {GROUP} {source} GROUP BY provider, model) "
        "ORDER BY cost_usd DESC NULLS LAST, calls DESC LIMIT {limit:UInt32}",
        where.params | limit,
    )
    by_prompt_type = section(
        store, "by_prompt_type", "Cost by prompt type",
        f"SELECT * FROM (SELECT prompt_type, {GROUP} {source} GROUP BY prompt_type) "
        "ORDER BY cost_usd DESC NULLS LAST, calls DESC LIMIT {limit:UInt32}",
        where.params | limit,
    )
    return result_from("cost", totals, [by_model, by_prompt_type], source=rollup.table)
