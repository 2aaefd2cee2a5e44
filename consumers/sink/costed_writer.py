"""Writer for the costed topic into ``ai_calls``."""

from __future__ import annotations

from typing import Any

from consumers.clickhouse import column_block
from consumers.clickhouse.column_block import ColumnBlock
from consumers.clickhouse.column_rows import columns_from_columns, prompt_type_of
from consumers.clickhouse.rows import (
    AI_CALLS_COLUMNS,
    INSERT_SETTINGS,
    ROWS_FORMAT,
    ConfigLookup,
    RowError,
    costed_to_row,
    default_config,
    encode_rows,
)
from consumers.clickhouse.store import Store
from schemas.codec import DecodeError
from schemas.costed_columns import CostedColumns, decode_costed


class CostedCallsWriter:
    table = "ai_calls"
    columns = AI_CALLS_COLUMNS

    def __init__(self, config: ConfigLookup = default_config):
        self.config = config

    def to_rows(self, value: bytes, partition: int, offset: int):
        try:
            decoded = decode_costed(value)
        except DecodeError as exc:
            return [], [(str(exc), value, None)]
        if isinstance(decoded, CostedColumns):
            rows = self._column_rows(decoded, partition, offset)
            if rows is not None:
                return rows, []
            decoded = decoded.items()  # not in the usual form: call by call, each with its reason
        return self._item_rows(decoded, partition, offset)

    def _column_rows(self, batch: CostedColumns, partition: int, offset: int) -> ColumnBlock | list | None:
        """The rows of a columns message of one prompt type, read and kept a column at a time (or ``None``)."""
        prompt_type = prompt_type_of(batch)
        if prompt_type is None:
            return None
        store_row, store_text = self.config(prompt_type)
        if not store_row:
            return []  # prompt type switched off (is_active = false): live stats only
        columns = columns_from_columns(batch, partition, offset, store_text)
        return None if columns is None else ColumnBlock(columns)

    def _item_rows(self, items: list[Any], partition: int, offset: int):
        rows, failures = [], []
        append = rows.append
        config = self.config
        last_type, store_row, store_text = None, True, False  # a message's items share a prompt type (its key)
        for item in items:
            event = item.get("event") if isinstance(item, dict) else None
            prompt_type = (event.get("prompt_type") if isinstance(event, dict) else None) or "default"
            if prompt_type != last_type:
                store_row, store_text = config(prompt_type)
                last_type = prompt_type
            if not store_row:
                continue  # prompt type switched off (is_active = false): live stats only
            try:
                append(costed_to_row(item, partition, offset, store_text))
            except RowError as exc:
                failures.append((str(exc), item, event.get("event_id") if isinstance(event, dict) else None))
        return rows, failures

    def prepare(self, store: Store, batches: list[Any]) -> ColumnBlock | list[Any]:
        """The rows to insert: the latest version of each call, less what is stored (:mod:`.column_block`)."""
        return column_block.prepare(store, batches)

    def write(self, store: Store, rows: ColumnBlock | list[Any], dedup_token: str | None) -> None:
        """One insert of prepared rows, parsed by the engine from :data:`ROWS_FORMAT`."""
        data = rows.encode() if isinstance(rows, ColumnBlock) else encode_rows(rows)
        store.insert_raw(self.table, data, self.columns, fmt=ROWS_FORMAT, dedup_token=dedup_token,
                         settings=INSERT_SETTINGS)
