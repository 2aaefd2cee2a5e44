"""Bulk rows of a columns message: exactly the rows (and failures) of reading it call by call."""

from __future__ import annotations

import pytest
from consumers.clickhouse.column_rows import rows_from_columns
from consumers.clickhouse.rows import costed_to_row
from consumers.sink.costed_writer import CostedCallsWriter
from schemas.costed_columns import decode_costed
from tests.schemas.costed_messages import COLUMN_NAMES, demo_messages, odd_values, with_value

MESSAGES = demo_messages()
#: Messages the odd values go into: with and without unpriced calls, with and without cache writes.
ODD_MESSAGES = [*MESSAGES[:2], *demo_messages(200, seed=5, cache_writes=False)[:2]]


@pytest.mark.parametrize("store_text", [False, True])
def test_pricing_stage_messages_take_the_bulk_path_and_give_the_same_rows(store_text):
    for message in MESSAGES:
        batch = decode_costed(message)
        rows = rows_from_columns(batch, 2, 9, store_text)
        assert rows is not None and len(rows) == batch.n
        assert rows == [costed_to_row(item, 2, 9, store_text) for item in batch.items()]


def _call_by_call(writer: CostedCallsWriter, message: bytes):
    return writer._item_rows(decode_costed(message).items(), 1, 5)


@pytest.mark.parametrize("name", COLUMN_NAMES)
def test_any_odd_value_gives_the_rows_and_failures_of_the_call_by_call_path(name):
    writer = CostedCallsWriter(lambda prompt_type: (prompt_type != "x", prompt_type != "chat"))
    for message in ODD_MESSAGES:
        for value in odd_values(message, name):
            for index in (0, 5):
                changed = with_value(message, name, index, value)
                rows, failures = writer.to_rows(changed, 1, 5)  # a block of columns, or rows
                assert repr((list(rows), failures)) == repr(_call_by_call(writer, changed)), value  # nan


def test_a_switched_off_prompt_type_stores_nothing_on_either_path():
    writer = CostedCallsWriter(lambda prompt_type: (False, False))
    assert all(writer.to_rows(m, 0, 0) == ([], []) for m in MESSAGES)
