"""Versioned, idempotent schema migrations.

Each migration is a list of statements with a version number; applied versions are recorded in
``schema_migrations``. Running ``migrate`` again applies nothing. Statements use
``IF NOT EXISTS`` so a migration interrupted half-way can be re-run.

``{text_ttl_days}`` in a statement is replaced by the configured TTL of prompt/response text.
"""

from __future__ import annotations

from dataclasses import dataclass

from consumers.clickhouse.store import Store


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_MONEY = "Nullable(Decimal(38, 12))"

AI_CALLS = f"""
CREATE TABLE IF NOT EXISTS ai_calls
(
    event_id UUID,
    version UInt64,
    occurred_at DateTime64(3, 'UTC'),
    account_id LowCardinality(String),
    user_id String,
    prompt_type LowCardinality(String),
    operation LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    input_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    output_tokens UInt64,
    reasoning_tokens UInt64,
    total_tokens UInt64,
    latency_ms Float64,
    success Bool,
    error_type LowCardinality(String),
    error_message String,
    cached Bool,
    source LowCardinality(String),
    task_id String,
    trace_id String,
    span_id String,
    metadata String,
    prompt String TTL toDateTime(occurred_at) + INTERVAL {{text_ttl_days}} DAY,
    response String TTL toDateTime(occurred_at) + INTERVAL {{text_ttl_days}} DAY,
    priced Bool,
    cost_input_usd {_MONEY},
    cost_output_usd {_MONEY},
    cost_cache_usd {_MONEY},
    cost_reasoning_usd {_MONEY},
    cost_other_usd {_MONEY},
    cost_total_usd {_MONEY},
    credits Nullable(Decimal(38, 6)),
    price_version LowCardinality(String),
    price_source LowCardinality(String),
    unpriced_reason String,
    priced_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    kafka_partition UInt32,
    kafka_offset UInt64,
    -- Rollup deltas: what this row adds to the pre-aggregated rollups. The sink sets them from
    -- the version already stored: a new call adds itself (is_new = 1); a re-rated call adds only
    -- the cost difference (is_new = 0, prev_* = the replaced version's figures); an exact
    -- duplicate is never inserted. So rollups never double-count a replay.
    is_new UInt8,
    prev_priced Bool,
    prev_cost_total_usd {_MONEY},
    prev_credits Nullable(Decimal(38, 6)),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4,
    INDEX idx_task_id task_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000
"""

DEAD_LETTERS = """
CREATE TABLE IF NOT EXISTS dead_letters
(
    failed_at DateTime64(3, 'UTC'),
    stage LowCardinality(String),
    reason String,
    raw_b64 String,
    source_topic String,
    source_partition Int32,
    source_offset Int64,
    event_id String,
    dlq_partition UInt32,
    dlq_offset UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (stage, failed_at, dlq_partition, dlq_offset)
TTL toDateTime(failed_at) + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 1000
"""

MIGRATIONS: list[Migration] = [
    Migration(1, "ai_calls", (AI_CALLS,)),
    Migration(2, "dead_letters", (DEAD_LETTERS,)),
]


def register(migration: Migration) -> None:
    """Add a migration (modules that own tables register theirs at import)."""
    if any(m.version == migration.version for m in MIGRATIONS):
        raise ValueError(f"migration version {migration.version} is already registered")
    MIGRATIONS.append(migration)
    MIGRATIONS.sort(key=lambda m: m.version)


def applied_versions(store: Store) -> set[int]:
    store.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version"
    )
    _, rows = store.rows("SELECT version FROM schema_migrations FINAL")
    return {int(r[0]) for r in rows}


def migrate(store: Store, text_ttl_days: int = 90) -> list[int]:
    """Apply every migration not yet applied, in order. Returns the versions applied now."""
    done = applied_versions(store)
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements:
            store.command(statement.replace("{text_ttl_days}", str(int(text_ttl_days))))
        store.insert("schema_migrations", [[migration.version, migration.name]], ["version", "name"])
        applied.append(migration.version)
    return applied
