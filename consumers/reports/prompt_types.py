"""``prompt_types``: statistics per prompt type (rollup) with its latest call in the range (from
``ai_calls FINAL``; range defaults to the last 30 days)."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import (
    ROLLUP_COST,
    ROLLUP_UNPRICED,
    pick_rollup,
    raw_where,
    result_from,
    rollup_where,
    section,
)

LATEST_DAYS = 30


@report("prompt_types", "Prompt types", "Calls, cost, average cost per call, errors and latency per prompt type, "
        "with the latest call of each.")
def prompt_types(store: Store, params: ReportParams) -> ReportResult:
    params = params.with_default_range(LATEST_DAYS)
    rollup = pick_rollup(params)
    where = rollup_where(params, rollup)
    stats = section(store, "prompt_types", "Per prompt type",
                    f"SELECT * FROM (SELECT prompt_type, sum(r.calls) AS calls, {ROLLUP_COST} AS cost_usd, "
                    "if(sum(r.priced_calls) > 0, sum(r.cost_usd) / sum(r.priced_calls), NULL) AS avg_cost_per_call, "
                    f"{ROLLUP_UNPRICED} AS unpriced_calls, sum(r.errors) AS errors, "
                    "if(sum(r.calls) > 0, sum(r.latency_ms_sum) / sum(r.calls), NULL) AS avg_latency_ms, "
                    f"sum(r.total_tokens) AS total_tokens FROM {rollup.table} AS r {where.sql} GROUP BY prompt_type) "
                    "ORDER BY calls DESC LIMIT {limit:UInt32}", where.params | {"limit": params.limit})
    raw = raw_where(params)
    latest = section(store, "latest_calls", "Latest call per prompt type",
                     "SELECT prompt_type, toString(event_id) AS event_id, occurred_at, user_id, model, "
                     "input_tokens, output_tokens, latency_ms, success, if(priced, cost_total_usd, NULL) AS cost_usd, "
                     "substring(prompt, 1, 300) AS prompt, substring(response, 1, 300) AS response "
                     f"FROM ai_calls FINAL {raw.sql} ORDER BY occurred_at DESC LIMIT 1 BY prompt_type", raw.params)
    return result_from("prompt_types", stats, [latest], source=rollup.table)
