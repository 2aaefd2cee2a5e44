"""The flush interval: flush_seconds while flushes are cheap, stretched under load, bounded."""

import pytest

from consumers.sink.pacing import FlushPacer


def test_an_idle_sink_flushes_every_flush_seconds():
    pacer = FlushPacer(0.5, 1.5)
    assert pacer.interval == 0.5
    pacer.record(0.05)  # a cheap flush: 4 x 0.05 s is below the minimum
    assert pacer.interval == 0.5


def test_the_interval_is_four_times_the_smoothed_flush_time_under_load():
    pacer = FlushPacer(0.5, 1.5)
    pacer.record(0.2)
    assert pacer.interval == pytest.approx(0.8)
    pacer.record(0.3)  # smoothed: 0.2 + 0.5 * (0.3 - 0.2) = 0.25
    assert pacer.interval == pytest.approx(1.0)


def test_the_interval_never_exceeds_the_maximum_and_recovers_when_load_falls():
    pacer = FlushPacer(0.5, 1.5)
    pacer.record(2.0)
    assert pacer.interval == 1.5
    for _ in range(10):
        pacer.record(0.01)
    assert pacer.interval == 0.5


def test_a_maximum_below_the_minimum_means_the_minimum():
    pacer = FlushPacer(5.0, 1.5)
    pacer.record(3.0)
    assert pacer.interval == 5.0


def test_duty_must_be_a_fraction():
    with pytest.raises(ValueError):
        FlushPacer(0.5, 1.5, duty=0)
