"""Writer for the costed topic into ``ai_calls``."""

from __future__ import annotations

from typing import Any

from consumers.clickhouse.rows import (
    AI_CALLS_COLUMNS,
    ConfigLookup,
    RowError,
    apply_stored_versions,
    costed_to_row,
    default_config,
    keep_latest,
)
from consumers.clickhouse.store import Store
from schemas.codec import DecodeError, unpack


class CostedCallsWriter:
    table = "ai_calls"
    columns = AI_CALLS_COLUMNS

    def __init__(self, config: ConfigLookup = default_config):
        self.config = config

    def to_rows(self, value: bytes, partition: int, offset: int):
        try:
            items = unpack(value)
        except DecodeError as exc:
            return [], [(str(exc), value, None)]
        rows, failures = [], []
        for item in items:
            event = item.get("event") if isinstance(item, dict) else None
            prompt_type = (event or {}).get("prompt_type") or "default"
            store_row, store_text = self.config(prompt_type)
            if not store_row:
                continue  # prompt type switched off (is_active = false): live stats only
            try:
                rows.append(costed_to_row(item, partition, offset, store_text))
            except RowError as exc:
                failures.append((str(exc), item, (event or {}).get("event_id")))
        return rows, failures

    def prepare(self, store: Store, rows: list[Any]) -> list[Any]:
        return apply_stored_versions(store, keep_latest(rows))
