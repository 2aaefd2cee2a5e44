"""``cost_analysis``: where the money goes, how it trends, what it will cost, what stands out.

Aggregates read the rollups; anomalies read ``ai_calls FINAL`` over the range (default: the last
30 days) because they are individual calls.

**Cost efficiency score** (0-100), per model and overall::

    score = 100 x success_rate x (cheapest cost per 1K tokens among the priced models in range
                                  / this model's cost per 1K tokens)

The cheapest fully reliable model scores 100; a model twice as expensive per token scores 50;
failed calls (paid for, useless) lower the score in proportion. Overall, the blended cost per
1K tokens of all priced calls is compared with the cheapest model's. Unpriced models have none.
"""

from __future__ import annotations

from decimal import Decimal

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, Section, report
from consumers.reports.projection import project
from consumers.reports.query import (
    HOURLY_ROLLUP,
    ROLLUP_COST,
    ROLLUP_PER_1K,
    ROLLUP_UNPRICED,
    bucket,
    pick_rollup,
    raw_where,
    result_from,
    rollup_where,
    section,
)

ANOMALY_FACTOR = 3
ANOMALY_DAYS = 30

GROUP = f"""
    sum(r.calls) AS calls,
    sum(r.total_tokens) AS total_tokens,
    {ROLLUP_COST} AS cost_usd,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens,
    if(sum(r.priced_calls) > 0, sum(r.cost_usd) / sum(r.priced_calls), NULL) AS avg_cost_per_call,
    {ROLLUP_UNPRICED} AS unpriced_calls"""

MATRIX = f"""
    sum(r.calls) AS calls,
    if(sum(r.calls) > 0, 1 - sum(r.errors) / sum(r.calls), NULL) AS success_rate,
    if(sum(r.calls) > 0, sum(r.latency_ms_sum) / sum(r.calls), NULL) AS avg_latency_ms,
    if(sum(r.calls) > 0, sum(r.total_tokens) / sum(r.calls), NULL) AS avg_tokens_per_call,
    if(sum(r.latency_ms_sum) > 0, (sum(r.output_tokens) + sum(r.reasoning_tokens)) * 1000 / sum(r.latency_ms_sum), NULL)
        AS output_tokens_per_second,
    {ROLLUP_COST} AS cost_usd,
    if(sum(r.priced_calls) > 0, sum(r.cost_usd) / sum(r.priced_calls), NULL) AS avg_cost_per_call,
    {ROLLUP_PER_1K} AS cost_per_1k_tokens,
    {ROLLUP_UNPRICED} AS unpriced_calls"""


def efficiency(success_rate: float | None, per_1k, cheapest: Decimal | None) -> float | None:
    """The documented score; ``None`` when there is nothing priced to compare."""
    if per_1k is None or cheapest is None or success_rate is None or Decimal(per_1k) <= 0:
        return None
    return round(100.0 * success_rate * float(cheapest / Decimal(per_1k)), 1)


def model_matrix(store: Store, source: str, params: dict) -> tuple[Section, Decimal | None]:
    matrix = section(store, "model_comparison", "Model comparison",
                     f"SELECT * FROM (SELECT provider, model, {MATRIX} {source} GROUP BY provider, model) "
                     "ORDER BY cost_usd DESC NULLS LAST, calls DESC", params)
    i_rate, i_per_1k = matrix.columns.index("success_rate"), matrix.columns.index("cost_per_1k_tokens")
    prices = [Decimal(r[i_per_1k]) for r in matrix.rows if r[i_per_1k] is not None and Decimal(r[i_per_1k]) > 0]
    cheapest = min(prices) if prices else None
    matrix.columns.append("efficiency_score")
    for row in matrix.rows:
        row.append(efficiency(row[i_rate], row[i_per_1k], cheapest))
    return matrix, cheapest


def anomalies(store: Store, params: ReportParams) -> Section:
    """Calls costing over 3x the average of their prompt type and model in the range (averages
    from the hourly rollup over the same range)."""
    raw = params.with_default_range(ANOMALY_DAYS)
    where = raw_where(raw).also("priced")
    rollup_where_ = rollup_where(raw, HOURLY_ROLLUP)
    sql = f"""
        SELECT toString(c.event_id) AS event_id, c.occurred_at AS occurred_at, c.account_id AS account_id,
               c.prompt_type AS prompt_type, c.model AS model, c.total_tokens AS total_tokens,
               c.cost_total_usd AS cost_usd, a.avg_cost AS avg_cost_usd,
               toFloat64(c.cost_total_usd / a.avg_cost) AS times_average
        FROM (SELECT event_id, occurred_at, account_id, prompt_type, model, total_tokens, cost_total_usd
              FROM ai_calls FINAL {where.sql}) AS c
        INNER JOIN (SELECT prompt_type, model, sum(r.cost_usd) / sum(r.priced_calls) AS avg_cost
                    FROM {HOURLY_ROLLUP.table} AS r {rollup_where_.sql} GROUP BY prompt_type, model HAVING sum(r.priced_calls) > 1) AS a
            ON c.prompt_type = a.prompt_type AND c.model = a.model
        WHERE a.avg_cost > 0 AND c.cost_total_usd > {{factor:UInt8}} * a.avg_cost
        ORDER BY times_average DESC, occurred_at DESC
        LIMIT {{limit:UInt32}}"""
    return section(store, "anomalies", f"Calls over {ANOMALY_FACTOR}x the average for their prompt type and model",
                   sql, where.params | rollup_where_.params | {"factor": ANOMALY_FACTOR, "limit": min(params.limit, 100)})


@report("cost_analysis", "AI cost analysis",
        "Cost by model, account and operation; trend; 30-day projection; anomalies; model comparison; "
        "hourly distribution; cost efficiency score.")
def cost_analysis(store: Store, params: ReportParams) -> ReportResult:
    rollup = pick_rollup(params)
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    totals = section(store, "totals", "Totals", f"SELECT {GROUP}, "
                     f"if(sum(r.calls) > 0, 1 - sum(r.errors) / sum(r.calls), NULL) AS success_rate {source}",
                     where.params)

    def by(name: str, title: str, dims: str, limit: int, src: str = source, args: dict = where.params) -> Section:
        return section(store, name, title, f"SELECT * FROM (SELECT {dims}, {GROUP} {src} GROUP BY {dims}) "
                       f"ORDER BY cost_usd DESC NULLS LAST, calls DESC LIMIT {int(limit)}", args)

    matrix, cheapest = model_matrix(store, source, where.params)
    success = totals.rows[0][totals.columns.index("success_rate")]
    i_per_1k = totals.columns.index("cost_per_1k_tokens")
    totals.columns.append("efficiency_score")
    totals.rows[0].append(efficiency(success, totals.rows[0][i_per_1k], cheapest))
    ops = pick_rollup(params, ("operation",))
    ow = rollup_where(params, ops)
    hourly = pick_rollup(params, need_hour=True)
    hw = rollup_where(params, hourly)
    summary, _ = project(store, params)
    sections = [
        by("by_model", "Cost by model", "provider, model", params.limit),
        by("by_account", "Top accounts by cost", "account_id", min(params.limit, 15)),
        by("by_operation", "Cost by operation", "operation", params.limit, f"FROM {ops.table} AS r {ow.sql}",
           ow.params),
        section(store, "trend", f"Cost by {params.granularity}",
                f"SELECT {bucket(params, rollup.time_col)} AS period, sum(r.calls) AS calls, {ROLLUP_COST} AS cost_usd, "
                f"{ROLLUP_UNPRICED} AS unpriced_calls {source} GROUP BY period ORDER BY period", where.params),
        summary,
        anomalies(store, params),
        matrix,
        section(store, "hourly_cost", "Cost by hour of day (UTC)",
                f"SELECT toHour(hour) AS hour_of_day, sum(r.calls) AS calls, {ROLLUP_COST} AS cost_usd "
                f"FROM {hourly.table} AS r {hw.sql} GROUP BY hour_of_day ORDER BY hour_of_day", hw.params),
    ]
    return result_from("cost_analysis", totals, sections, source=rollup.table,
                       anomaly_rule=f"cost > {ANOMALY_FACTOR} x average of the same prompt type and model",
                       efficiency_score="100 x success rate x cheapest model cost per 1K tokens / cost per 1K tokens")

