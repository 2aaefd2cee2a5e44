"""``metrics``: requests, errors, latency, throughput, cache hits and satisfaction, overall and
per model (rollups for the call figures; ``ai_ratings FINAL`` joined to the rated calls for
satisfaction).

* tokens per second = (output + reasoning tokens) / total latency in seconds
* cache hit rate = calls answered from a response cache / calls
* satisfaction rate = positive / (positive + negative) ratings; neutral ratings are counted apart
"""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, Section, report
from consumers.reports.query import bucket, pick_rollup, raw_where, result_from, rollup_where, section

CALLS = """
    sum(r.calls) AS requests,
    sum(r.errors) AS errors,
    if(sum(r.calls) > 0, sum(r.errors) / sum(r.calls), NULL) AS error_rate,
    if(sum(r.calls) > 0, sum(r.latency_ms_sum) / sum(r.calls), NULL) AS avg_duration_ms,
    if(sum(r.latency_ms_sum) > 0, (sum(r.output_tokens) + sum(r.reasoning_tokens)) * 1000 / sum(r.latency_ms_sum), NULL)
        AS tokens_per_second,
    sum(r.cached_calls) AS cache_hits,
    if(sum(r.calls) > 0, sum(r.cached_calls) / sum(r.calls), NULL) AS cache_hit_rate,
    sum(r.total_tokens) AS total_tokens"""

RATING_COLUMNS = ["positive", "negative", "neutral", "rated", "satisfaction_rate"]


def ratings(store: Store, params: ReportParams, by_model: bool) -> dict:
    """{model or None: [positive, negative, neutral, rated, satisfaction]} for calls in the range."""
    calls = raw_where(params.with_default_range(3650))
    rated = "account_id = {account_id:String}" if params.account_id is not None else "1"
    key = "c.model" if by_model else "''"
    sql = f"""
        SELECT {key} AS k, countIf(r.rating > 0) AS positive, countIf(r.rating < 0) AS negative,
               countIf(r.rating = 0) AS neutral, count() AS rated
        FROM (SELECT event_id, rating FROM ai_ratings FINAL WHERE {rated}) AS r
        INNER JOIN (SELECT event_id, model FROM ai_calls FINAL {calls.sql}
                    {'AND' if calls.clauses else 'WHERE'} event_id IN
                        (SELECT event_id FROM ai_ratings FINAL WHERE {rated})) AS c
            ON r.event_id = c.event_id
        GROUP BY k"""
    _, rows = store.rows(sql, calls.params)
    out = {}
    for k, pos, neg, neu, total in rows:
        out[k if by_model else None] = [pos, neg, neu, total, pos / (pos + neg) if pos + neg else None]
    return out


@report("metrics", "Metrics dashboard",
        "Requests, errors, error rate, average duration, tokens/s, cache hit rate, satisfaction; per model.")
def metrics(store: Store, params: ReportParams) -> ReportResult:
    rollup = pick_rollup(params)
    where = rollup_where(params, rollup)
    source = f"FROM {rollup.table} AS r {where.sql}"
    totals = section(store, "totals", "Totals", f"SELECT {CALLS} {source}", where.params)
    overall = ratings(store, params, by_model=False).get(None, [0, 0, 0, 0, None])
    totals.columns += RATING_COLUMNS
    totals.rows[0] += overall
    per_model = section(store, "by_model", "Per model",
                        f"SELECT * FROM (SELECT provider, model, {CALLS} {source} GROUP BY provider, model) "
                        "ORDER BY requests DESC", where.params)
    model_ratings = ratings(store, params, by_model=True)
    per_model.columns += RATING_COLUMNS
    for row in per_model.rows:
        row += model_ratings.get(row[1], [0, 0, 0, 0, None])
    sections: list[Section] = [
        per_model,
        section(store, "by_prompt_type", "Per prompt type",
                f"SELECT * FROM (SELECT prompt_type, {CALLS} {source} GROUP BY prompt_type) ORDER BY requests DESC",
                where.params),
        section(store, "trend", f"By {params.granularity}",
                f"SELECT {bucket(params, rollup.time_col)} AS period, {CALLS} {source} GROUP BY period "
                "ORDER BY period", where.params),
    ]
    return result_from("metrics", totals, sections, source=rollup.table)
