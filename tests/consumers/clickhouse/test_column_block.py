"""The costed sink's column path, through the real ClickHouse engine: whatever the flush holds,
it inserts exactly what the row path (keep the latest version, less what is stored) inserts,
and live traffic never becomes rows."""

from __future__ import annotations

import uuid

import orjson
import pytest

from ailedger.demo_traffic import generate
from consumers.clickhouse import column_block
from consumers.clickhouse import rows as R
from consumers.clickhouse.column_block import ColumnBlock
from consumers.sink.costed_writer import CostedCallsWriter
from schemas.codec import event_to_dict
from schemas.costed_columns import encode_costed
from stream_processors.costing import cost_batch
from stream_processors.pricing import load_catalog

WRITER = CostedCallsWriter()


def blocks(n: int, seed: int, days: float = 0.01, partition: int = 0) -> list[ColumnBlock]:
    """The sink's batches of ``n`` demo calls within the last ``days`` days, one columns message
    per prompt type, as the pricing stage sends them."""
    events = [event_to_dict(e) for e in generate(n, days=days, seed=seed)]
    priced = cost_batch(events, load_catalog(None))
    out = []
    for offset, calls in enumerate(priced.by_prompt_type.values()):
        batch, failures = WRITER.to_rows(encode_costed(calls), partition, offset)
        assert type(batch) is ColumnBlock and failures == []
        out.append(batch)
    return out


def row_path(store, batches) -> list[tuple]:
    return R.apply_stored_versions(store, R.keep_latest([row for batch in batches for row in batch]))


def same_as_row_path(store, batches) -> ColumnBlock | list[tuple]:
    prepared = column_block.prepare(store, batches)
    expected = row_path(store, batches)
    assert list(prepared) == expected
    data = prepared.encode() if isinstance(prepared, ColumnBlock) else R.encode_rows(prepared)
    assert data == R.encode_rows(expected)
    return prepared


def test_live_calls_are_inserted_by_column_and_stored_as_rows_would_be(store):
    batches = blocks(300, seed=1) + blocks(200, seed=2, partition=1)
    prepared = same_as_row_path(store, batches)
    assert type(prepared) is ColumnBlock and len(prepared) == 500
    WRITER.write(store, prepared, uuid.uuid4().hex)
    _, found = store.rows("SELECT count(), uniqExact(event_id), sum(is_new) FROM ai_calls")
    assert found == [(500, 500, 500)]


def test_calls_stored_before_are_dropped_or_re_rated_as_on_the_row_path(store):
    first = blocks(200, seed=3)
    WRITER.write(store, column_block.prepare(store, first), uuid.uuid4().hex)
    again = blocks(100, seed=4) + first[:2]  # two messages delivered again: already stored
    prepared = same_as_row_path(store, again)
    assert len(prepared) == sum(map(len, again)) - len(first[0]) - len(first[1])
    re_rated = [ColumnBlock([*block.columns[:R.VERSION], [v + 1 for v in block.columns[R.VERSION]],
                             *block.columns[R.VERSION + 1:]]) for block in first[:1]]
    prepared = same_as_row_path(store, re_rated)
    assert [row[R.IS_NEW] for row in prepared] == [0] * len(first[0])


def test_an_id_twice_in_one_flush_keeps_the_latest_version(store):
    block = blocks(100, seed=5)[0]
    later = ColumnBlock([*block.columns[:R.VERSION], [v + 5 for v in block.columns[R.VERSION]],
                         *block.columns[R.VERSION + 1:]])
    prepared = same_as_row_path(store, [block, later])
    assert len(prepared) == len(block) and {row[R.VERSION] for row in prepared} == set(later.columns[R.VERSION])


@pytest.mark.parametrize("days", [1, 7])
def test_calls_spread_over_hours_take_the_cut_version_lookup(store, days):
    batches = blocks(300, seed=6, days=days)
    WRITER.write(store, column_block.prepare(store, batches[:1]), uuid.uuid4().hex)
    same_as_row_path(store, batches)


def test_a_flush_of_blocks_and_rows_is_one_insert_of_both(store):
    live, rows = blocks(100, seed=7), blocks(100, seed=8)[0].rows()
    prepared = same_as_row_path(store, [*live, rows])
    assert len(prepared) == sum(map(len, live)) + len(rows)


def test_a_block_reads_back_as_its_rows():
    block = blocks(50, seed=9)[0]
    rows = block.rows()
    assert list(block) == rows and block[3] == rows[3] and len(block) == len(rows)
    assert block.encode() == R.encode_rows(rows) == orjson.dumps([list(c) for c in zip(*rows)][:R._MODE])
