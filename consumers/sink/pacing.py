"""How long buffered rows may wait for their flush: short when the sink is idle, longer under load.

An insert has a large fixed cost besides its rows: on the embedded engine, one insert into
``ai_calls`` with its three rollup views costs ~45-60 ms of CPU even for 10 rows, and every
part it writes is merged again later. Flushing every ``flush_seconds`` whatever the load keeps
latency low when calls are few, but under a flood it spends the CPU the pipeline needs on
insert overhead (5,000-row inserts cost ~40 µs per row, 20,000-row inserts ~15-18,
``benchmarks/bench_insert_size.py``).

So the wait stretches with the cost of the flushes: the interval is chosen so that flushing
takes at most ``duty`` of the sink's time (4x the recent flush duration at the default 0.25),
never shorter than ``flush_seconds`` and never longer than ``flush_max_seconds``. An idle
sink's flushes are short, so its latency is unchanged. The stretch costs latency at moderate
rates (at 7,500 events/s, a 1.0 s ceiling gave p99 2.3-2.4 s produce-to-queryable against
1.5-2.0 s at 0.5), so by default the ceiling equals ``flush_seconds`` and nothing stretches.
"""

from __future__ import annotations


class FlushPacer:
    """The current flush interval, from a smoothed flush duration."""

    def __init__(self, min_seconds: float, max_seconds: float, duty: float = 0.25, smoothing: float = 0.5):
        if not 0 < duty <= 1:
            raise ValueError(f"duty must be in (0, 1], got {duty}")
        self.min_seconds = min_seconds
        self.max_seconds = max(min_seconds, max_seconds)
        self.duty = duty
        self.smoothing = smoothing
        self.flush_seconds: float | None = None  #: smoothed duration of the recent flushes

    def record(self, seconds: float) -> None:
        """A successful flush took ``seconds``."""
        if self.flush_seconds is None:
            self.flush_seconds = seconds
        else:
            self.flush_seconds += self.smoothing * (seconds - self.flush_seconds)

    @property
    def interval(self) -> float:
        """How old the oldest buffered row may get before a flush."""
        if self.flush_seconds is None:
            return self.min_seconds
        return min(self.max_seconds, max(self.min_seconds, self.flush_seconds / self.duty))
