"""CallBatch: calls by column, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stream_processors.stats.batch import CallBatch, as_batch
from tests.stream_processors.stats.factories import NOW, call


def sample() -> list:
    return [call(input_tokens=1), call(prompt_type="chat", cost=None, success=False, error_type="x", input_tokens=2),
            call(user_id=None, input_tokens=3, metadata={"k": "v"}), call(prompt_type="chat", input_tokens=4,
                                                                           at=NOW - timedelta(days=40))]


def test_a_batch_gives_back_the_calls_it_was_made_of():
    calls = sample()
    batch = CallBatch.from_calls(calls)
    assert len(batch) == 4 and batch.tokens[0] == [1, 2, 3, 4] and batch.priced == [True, False, True, True]
    assert batch.calls() == calls and batch.call(2) == calls[2]
    assert as_batch(batch) is batch and as_batch(calls).calls() == calls


def test_take_slice_and_concat_keep_the_order():
    calls = sample()
    batch = CallBatch.from_calls(calls)
    assert batch.take([3, 0]).calls() == [calls[3], calls[0]]
    assert batch.take([2]).calls() == [calls[2]]
    assert len(batch.take([])) == 0 and batch.take([]).tokens == ([], [], [], [], [])
    assert batch.slice(1, 3).calls() == calls[1:3]
    assert batch.slice(3, 9).calls() == calls[3:]
    joined = CallBatch.concat([batch.slice(0, 1), batch.slice(1, 4)])
    assert joined.calls() == calls


def test_concat_keeps_derived_columns_only_when_every_part_has_them():
    batch = CallBatch.from_calls(sample())
    first, second = batch.slice(0, 2), batch.slice(2, 4)
    first.day_keys()
    assert CallBatch.concat([first, second])._day_keys is None
    second.day_keys()
    assert CallBatch.concat([first, second])._day_keys == batch.day_keys()


def test_derived_columns():
    batch = CallBatch.from_calls(sample())
    old = NOW - timedelta(days=40)
    assert batch.day_keys() == [(NOW.date(), "acme", "u1", "summarise"), (NOW.date(), "acme", "u1", "chat"),
                                 (NOW.date(), "acme", "", "summarise"), (old.date(), "acme", "u1", "chat")]
    assert batch.timestamps() == [c.ts for c in sample()[:3]] + [old.timestamp()]
    assert batch.months() == [f"{NOW:%Y-%m}"] * 3 + [f"{old:%Y-%m}"]


def test_by_prompt_type_splits_in_order_of_first_appearance_and_keeps_one_type_whole():
    batch = CallBatch.from_calls(sample())
    parts = list(batch.by_prompt_type())
    assert [(pt, part.tokens[0]) for pt, part in parts] == [("summarise", [1, 3]), ("chat", [2, 4])]
    one = batch.take([0, 2])
    assert list(one.by_prompt_type()) == [("summarise", one)] and list(one.by_prompt_type())[0][1] is one
    assert list(CallBatch.empty().by_prompt_type()) == []


def test_an_empty_batch():
    empty = CallBatch.empty()
    assert len(empty) == 0 and empty.calls() == [] and empty.day_keys() == [] and empty.months() == []
    with pytest.raises(IndexError):
        empty.call(0)


def test_derived_columns_follow_take_slice_and_concat():
    batch = CallBatch.from_calls(sample())
    floats, months = batch.cost_floats(), batch.months()
    assert floats == [0.01, None, 0.01, 0.01]
    part = batch.take([3, 1])
    assert part._cost_floats == [0.01, None] and part._months == [months[3], months[1]]
    assert batch.slice(1, 3)._cost_floats == [None, 0.01]
    assert CallBatch.concat([batch.slice(0, 2), batch.slice(2, 4)])._cost_floats == floats
    assert CallBatch.concat([batch.slice(0, 2), CallBatch.from_calls(sample()[2:])])._cost_floats is None
