"""``task_costs``: cost per task run (``task_id``, from ``ai_calls FINAL``; range defaults to the
last 30 days) and per operation (from the rollup, or from the task's own calls when ``task_id``
is given), each with its number of calls."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import (
    RAW_COST,
    RAW_UNPRICED,
    ROLLUP_COST,
    ROLLUP_UNPRICED,
    pick_rollup,
    raw_where,
    result_from,
    rollup_where,
    section,
)

TASK_DAYS = 30

RAW_GROUP = f"""
    count() AS calls,
    countIf(NOT r.success) AS errors,
    sum(r.total_tokens) AS total_tokens,
    {RAW_COST} AS cost_usd,
    {RAW_UNPRICED} AS unpriced_calls"""


@report("task_costs", "Cost per task and operation",
        "Cost, tokens and number of calls per task run (task_id) and per operation.")
def task_costs(store: Store, params: ReportParams) -> ReportResult:
    params = params.with_default_range(TASK_DAYS)
    where = raw_where(params)
    if params.task_id:
        where.add("task_id = {task_id:String}", task_id=params.task_id)
    else:
        where.add("task_id != ''")
    tasks = section(store, "tasks", "Per task run",
                    f"SELECT * FROM (SELECT task_id, min(occurred_at) AS started_at, max(occurred_at) AS ended_at, "
                    f"any(account_id) AS account_id, arrayStringConcat(arraySort(groupUniqArray(operation)), ', ') "
                    f"AS operations, {RAW_GROUP} FROM ai_calls AS r FINAL {where.sql} GROUP BY task_id) "
                    "ORDER BY ended_at DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                    where.params | {"limit": params.limit, "offset": params.offset})
    if params.task_id:
        operations = section(store, "by_operation", "Per operation of the task",
                             f"SELECT * FROM (SELECT operation, {RAW_GROUP} FROM ai_calls AS r FINAL {where.sql} "
                             "GROUP BY operation) ORDER BY cost_usd DESC NULLS LAST, calls DESC", where.params)
    else:
        rollup = pick_rollup(params, ("operation",))
        rw = rollup_where(params, rollup)
        operations = section(store, "by_operation", "Per operation",
                             f"SELECT * FROM (SELECT operation, sum(r.calls) AS calls, sum(r.errors) AS errors, "
                             f"sum(r.total_tokens) AS total_tokens, {ROLLUP_COST} AS cost_usd, "
                             f"{ROLLUP_UNPRICED} AS unpriced_calls, "
                             f"if(sum(r.priced_calls) > 0, sum(r.cost_usd) / sum(r.priced_calls), NULL) AS avg_cost_per_call "
                             f"FROM {rollup.table} AS r {rw.sql} GROUP BY operation) "
                             "ORDER BY cost_usd DESC NULLS LAST, calls DESC", rw.params)
    return result_from("task_costs", tasks, [operations])
