"""The bulk batch of a columns message: exactly what parse_costed reads call by call, or None."""

from __future__ import annotations

import pytest

from schemas.costed_columns import decode_costed
from stream_processors.stats.calls import parse_costed
from stream_processors.stats.columns import batch_from_columns
from tests.schemas.costed_messages import COLUMN_NAMES, demo_messages, odd_values, with_value

MESSAGES = demo_messages()
#: Messages the odd values go into: with and without unpriced calls, with and without cache writes.
ODD_MESSAGES = [*MESSAGES[:2], *demo_messages(200, seed=5, cache_writes=False)[:2]]


def calls_from_columns(batch):
    """The calls of the bulk batch, one by one (``None`` when the message is not read in bulk)."""
    read = batch_from_columns(batch)
    if read is None:
        return None
    # the floats read from the totals' text are those of the exact amounts
    assert read.cost_floats() == [None if c is None else float(c) for c in read.cost_usd]
    return read.calls()


def test_pricing_stage_messages_take_the_bulk_path_and_give_the_same_calls():
    for message in MESSAGES:
        batch = decode_costed(message)
        calls = calls_from_columns(batch)
        assert calls is not None and len(calls) == batch.n
        assert calls == [parse_costed(item) for item in batch.items()]


@pytest.mark.parametrize("name", COLUMN_NAMES)
def test_any_odd_value_is_read_as_parse_costed_reads_it_or_left_to_it(name):
    for message in ODD_MESSAGES:
        for value in odd_values(message, name):
            for index in (0, 5):
                batch = decode_costed(with_value(message, name, index, value))
                calls = calls_from_columns(batch)
                try:
                    expected = [parse_costed(item) for item in batch.items()]
                except ValueError:
                    assert calls is None, value  # a call parse_costed rejects is never read in bulk
                    continue
                assert calls is None or calls == expected, value
