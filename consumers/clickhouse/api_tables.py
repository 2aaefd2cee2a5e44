"""Tables owned by the HTTP API: ``ai_ratings`` (feedback on calls), ``api_keys`` (hashed keys)
and ``price_overrides`` (the overrides published through ``PUT /v1/pricing``, for ``GET``).

Both are ReplacingMergeTree keyed so that writing the same fact twice (an API write followed by
a replay of the ratings topic, or a key re-saved) keeps one row: read them with ``FINAL``.
"""

from __future__ import annotations

from consumers.clickhouse.migrations import Migration, register

AI_RATINGS = """
CREATE TABLE IF NOT EXISTS ai_ratings
(
    event_id UUID,
    account_id LowCardinality(String),
    rated_by String,
    rating Int8,
    rated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(rated_at)
ORDER BY (account_id, event_id, rated_by)
"""

API_KEYS = """
CREATE TABLE IF NOT EXISTS api_keys
(
    key_id String,
    account_id String,
    is_admin Bool,
    name String,
    salt String,
    key_hash String,
    revoked Bool DEFAULT false,
    created_at DateTime64(3, 'UTC') DEFAULT now64(3),
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key_id
"""

PRICE_OVERRIDES = """
CREATE TABLE IF NOT EXISTS price_overrides
(
    key String,
    provider String,
    model String,
    effective_from DateTime64(3, 'UTC'),
    body String,
    deleted Bool,
    published_by String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key
"""

register(Migration(12, "ai_ratings", (AI_RATINGS,)))
register(Migration(13, "api_keys", (API_KEYS,)))
register(Migration(14, "price_overrides", (PRICE_OVERRIDES,)))
