"""The latest call: by event time, the last of equals, across the batches of a run."""

from datetime import timedelta

import pytest

from stream_processors.stats.batch import CallBatch
from stream_processors.stats.snapshot import latest
from tests.stream_processors.stats.factories import NOW, call


def test_latest_is_the_greatest_time_and_the_last_of_equals():
    calls = [call(at=NOW, model="a"), call(at=NOW + timedelta(seconds=1), model="b"),
             call(at=NOW + timedelta(seconds=1), model="c"), call(at=NOW - timedelta(days=1), model="d")]
    assert latest([CallBatch.from_calls(calls)]).model == "c"
    assert latest([CallBatch.from_calls(calls[:2]), CallBatch.from_calls(calls[2:])]).model == "c"


def test_latest_across_batches_takes_the_later_batch_on_a_tie():
    first = CallBatch.from_calls([call(at=NOW, model="a"), call(at=NOW + timedelta(seconds=2), model="b")])
    second = CallBatch.from_calls([call(at=NOW + timedelta(seconds=2), model="c"), call(at=NOW, model="d")])
    third = CallBatch.from_calls([call(at=NOW + timedelta(seconds=1), model="e")])
    assert latest([first, second, third]).model == "c"
    assert latest([second, first]).model == "b"
    assert latest([CallBatch.empty(), third]).model == "e"


def test_no_calls_have_no_latest():
    with pytest.raises(ValueError):
        latest([])
    with pytest.raises(ValueError):
        latest([CallBatch.empty()])
