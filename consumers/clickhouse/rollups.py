"""Replay-safe rollups of ``ai_calls``: SummingMergeTree tables fed by materialized views.

* ``ai_calls_hourly``: hour x account, provider, model, prompt type, operation
* ``ai_calls_daily``: day x account, user, provider, model, prompt type, operation
* ``ai_calls_daily_by_model``: day x account, provider, model, prompt type (the smallest; most
  reports over whole days read it)

The sink inserts a row into ``ai_calls`` only when it is new or a higher version, and stamps it
with ``is_new`` and the replaced version's ``prev_*`` figures. A materialized view sees each
inserted row once, so the rollups add:

* counts, tokens and latency only when ``is_new = 1`` (a re-rating adds no call);
* cost, credits and the priced-call count as the *difference* from the replaced version.

Summed over all inserted rows this equals the figures of the latest version of every call, i.e.
``SELECT ... FROM ai_calls FINAL``. Rollups are read with ``sum()`` and ``GROUP BY`` because
SummingMergeTree merges in the background.
"""

from __future__ import annotations

from dataclasses import dataclass

from consumers.clickhouse.migrations import Migration, register
from consumers.clickhouse.store import Store

HOURLY = "ai_calls_hourly"
DAILY = "ai_calls_daily"
DAILY_BY_MODEL = "ai_calls_daily_by_model"

#: Summed columns of both rollups, in order.
MEASURES = (
    "calls",
    "errors",
    "cached_calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
    "latency_ms_sum",
    "priced_calls",
    "priced_tokens",
    "cost_usd",
    "credits",
)

_MEASURE_TYPES = """
    calls UInt64,
    errors UInt64,
    cached_calls UInt64,
    input_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    output_tokens UInt64,
    reasoning_tokens UInt64,
    total_tokens UInt64,
    latency_ms_sum Float64,
    priced_calls Int64,
    priced_tokens Int64,
    cost_usd Decimal(38, 12),
    credits Decimal(38, 6)
"""


def _measures(delta: bool) -> str:
    """The measure expressions over source alias ``c``. ``delta``: a row of the insert stream
    (gated by ``is_new``, cost as a difference); otherwise a final row, counted as itself (backfill).
    """
    new = "c.is_new" if delta else "1"

    def minus_prev(value: str, prev: str, zero: str) -> str:
        return f"{value} - if(c.is_new, {zero}, {prev})" if delta else value

    priced = minus_prev("toInt64(c.priced)", "toInt64(c.prev_priced)", "toInt64(0)")
    tokens = ",\n        ".join(
        f"if({new}, c.{col}, 0) AS {col}"
        for col in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
                    "total_tokens")
    )
    cost = minus_prev("ifNull(c.cost_total_usd, toDecimal128(0, 12))",
                      "ifNull(c.prev_cost_total_usd, toDecimal128(0, 12))", "toDecimal128(0, 12)")
    credits = minus_prev("ifNull(c.credits, toDecimal128(0, 6))", "ifNull(c.prev_credits, toDecimal128(0, 6))",
                         "toDecimal128(0, 6)")
    return f"""
        toUInt64({new}) AS calls,
        toUInt64({new} AND NOT c.success) AS errors,
        toUInt64({new} AND c.cached) AS cached_calls,
        {tokens},
        if({new}, c.latency_ms, 0) AS latency_ms_sum,
        {priced} AS priced_calls,
        toInt64(c.total_tokens) * ({priced}) AS priced_tokens,
        {cost} AS cost_usd,
        {credits} AS credits"""


def _select(bucket: str, dims: tuple[str, ...], delta: bool, final: bool) -> str:
    columns = ", ".join(f"c.{d} AS {d}" for d in dims)
    return f"SELECT {bucket}, {columns},{_measures(delta)}\n    FROM ai_calls AS c{' FINAL' if final else ''}"


@dataclass(frozen=True)
class RollupSpec:
    """One rollup table: its time bucket and dimensions."""

    table: str
    bucket_col: str
    bucket_type: str
    bucket_expr: str
    dims: tuple[str, ...]


SPECS = {
    spec.table: spec
    for spec in (
        RollupSpec(HOURLY, "hour", "DateTime('UTC')", "toStartOfHour(c.occurred_at) AS hour",
                   ("account_id", "provider", "model", "prompt_type", "operation")),
        RollupSpec(DAILY, "day", "Date", "toDate(c.occurred_at) AS day",
                   ("account_id", "user_id", "provider", "model", "prompt_type", "operation")),
        RollupSpec(DAILY_BY_MODEL, "day", "Date", "toDate(c.occurred_at) AS day",
                   ("account_id", "provider", "model", "prompt_type")),
    )
}


def _rollup_statements(spec: RollupSpec) -> tuple[str, ...]:
    dims = spec.dims
    dim_cols = ",\n    ".join(f"{d} LowCardinality(String)" if d != "user_id" else "user_id String" for d in dims)
    create = f"""
CREATE TABLE IF NOT EXISTS {spec.table}
(
    {spec.bucket_col} {spec.bucket_type},
    {dim_cols},
    {_MEASURE_TYPES}
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM({spec.bucket_col})
ORDER BY (account_id, {spec.bucket_col}, {', '.join(d for d in dims if d != 'account_id')})
"""
    view = (f"CREATE MATERIALIZED VIEW IF NOT EXISTS {spec.table}_mv TO {spec.table} AS\n"
            f"{_select(spec.bucket_expr, dims, True, False)}")
    return (create, view) + backfill_statements(spec.table)


def final_select(table: str) -> str:
    """The rows of one rollup computed from the latest version of every call (no deltas)."""
    spec = SPECS[table]
    return _select(spec.bucket_expr, spec.dims, False, True)


def backfill_statements(table: str) -> tuple[str, ...]:
    """Rebuild one rollup from the latest version of every call (idempotent: truncate + insert).

    Run while nothing writes to ``ai_calls`` (at migration, before the sink starts)."""
    return (f"TRUNCATE TABLE {table}", f"INSERT INTO {table}\n{final_select(table)}")


def rebuild_rollups(store: Store) -> None:
    """Recompute every rollup from ``ai_calls FINAL`` (repair, or after a bulk load)."""
    for table in SPECS:
        for statement in backfill_statements(table):
            store.command(statement)


register(Migration(10, "ai_calls_hourly rollup", _rollup_statements(SPECS[HOURLY])))
register(Migration(11, "ai_calls_daily rollup", _rollup_statements(SPECS[DAILY])))
register(Migration(15, "ai_calls_daily_by_model rollup", _rollup_statements(SPECS[DAILY_BY_MODEL])))
