"""A small DDSketch: mergeable quantiles with a relative-accuracy guarantee.

Values (latencies in ms) fall into logarithmic bins: bin ``i`` holds the values in
``(gamma**(i-1), gamma**i]`` with ``gamma = (1 + a) / (1 - a)``, and answers with
``2 * gamma**i / (gamma + 1)``, which is within ``a`` (1 %) of every value of the bin. So any
quantile is within 1 % of the exact value of that rank, whatever the distribution, and two
sketches merge by adding bin counts (the rolling windows merge their buckets this way).

Values at or below ``MIN_VALUE`` (0 ms) go to a zero bin. The bins are stored densely, as the
counts from the lowest used index (``offset``) up: latencies from 1 ms to 1 min span ~550 bins,
a real distribution a few hundred, and a dense list is both the compact wire form and cheap to
merge. Past ``MAX_BINS`` the lowest bins are folded together, which only coarsens the lowest
quantiles (values from 1 ns to a day need ~1,950 bins, so this never happens to latencies).

The sketch is a frozen, slotted dataclass (``add``/``merge`` return a new sketch) rather than a
pydantic model: a statistics state holds ~75 sketches and totals, and building each through
pydantic (even ``model_construct``, ~15 us) cost more than the whole update. ``from_wire`` checks
what it reads.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import repeat
from operator import add, truediv
from typing import Iterable

from dataclasses import dataclass

RELATIVE_ACCURACY = 0.01
MIN_VALUE = 1e-9
MAX_BINS = 2048
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
_ceil, _log = math.ceil, math.log
_above_min = MIN_VALUE.__lt__


def bin_index(value: float) -> int:
    return math.ceil(math.log(value) / _LOG_GAMMA)


def bin_value(index: int) -> float:
    return 2.0 * _GAMMA**index / (_GAMMA + 1.0)


@dataclass(frozen=True, slots=True)
class DDSketch:
    offset: int = 0  # bin index of counts[0]
    counts: tuple[int, ...] = ()
    zero: int = 0
    count: int = 0
    sum: float = 0.0
    min: float | None = None
    max: float | None = None

    def add(self, values: Iterable[float]) -> "DDSketch":
        """A new sketch with ``values`` added (negative values are taken as 0)."""
        values = list(map(float, values))
        if not values:
            return self
        zero = 0
        if all(map(_above_min, values)):  # the usual: every value gets a bin, computed in C
            added = Counter(map(_ceil, map(truediv, map(_log, values), repeat(_LOG_GAMMA))))
        else:
            values = [0.0 if v < 0.0 else v for v in values]  # max(v, 0.0), -0.0 and NaN kept
            bins = []
            for v in values:  # bin_index inlined
                if v > MIN_VALUE:
                    bins.append(_ceil(_log(v) / _LOG_GAMMA))
                elif v <= MIN_VALUE:
                    zero += 1
            added = Counter(bins)
        low, high = min(values), max(values)
        return _new(*_add_bins(self.offset, self.counts, added), self.zero + zero, self.count + len(values),
                    self.sum + sum(values), low if self.min is None else min(self.min, low),
                    high if self.max is None else max(self.max, high))

    def merge(self, other: "DDSketch") -> "DDSketch":
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        return _new(*_merge_bins(self.offset, self.counts, other.offset, other.counts), self.zero + other.zero,
                    self.count + other.count,
                    self.sum + other.sum, min(self.min, other.min), max(self.max, other.max))  # type: ignore[type-var]

    def quantile(self, q: float) -> float | None:
        """The value at rank ``floor(q * (count - 1))`` within 1 %; ``None`` when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be within [0, 1], got {q}")
        if self.count == 0:
            return None
        rank = math.floor(q * (self.count - 1))
        if rank < self.zero:
            return 0.0
        seen = self.zero
        for i, n in enumerate(self.counts):
            seen += n
            if seen > rank:
                return min(max(bin_value(self.offset + i), self.min), self.max)  # type: ignore[type-var]
        return self.max  # pragma: no cover - counts always add up

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None

    def to_wire(self) -> list:
        """``[count, sum, min, max, zero, offset, c0, c1, ...]``, or ``[]`` when empty."""
        if self.count == 0:
            return []
        return [self.count, self.sum, self.min, self.max, self.zero, self.offset, *self.counts]

    @classmethod
    def from_wire(cls, wire: list) -> "DDSketch":
        if not wire:
            return EMPTY
        count, total, low, high, zero, offset = wire[:6]
        counts = tuple(wire[6:])
        if sum(counts) + zero != count or min(counts, default=0) < 0:
            raise ValueError("sketch counts do not add up")
        return _new(int(offset), counts, int(zero), int(count), float(total), float(low), float(high))


EMPTY = DDSketch()


def _new(offset: int, counts: tuple[int, ...], zero: int, count: int, total: float, low: float | None,
         high: float | None) -> DDSketch:
    return DDSketch(offset, counts, zero, count, total, low, high)


def _add_bins(offset: int, counts: tuple[int, ...], added: dict[int, int]) -> tuple[int, tuple[int, ...]]:
    """Dense counts with ``added`` (index -> count) added, trimmed and bounded."""
    if not added:
        return offset, counts
    if not counts:
        offset = min(added)
    low = min(offset, min(added))
    high = max(offset + len(counts) - 1, max(added))
    dense = [0] * (offset - low) + list(counts) + [0] * (high - (offset + len(counts) - 1))
    for index, n in added.items():
        dense[index - low] += n
    if len(dense) > MAX_BINS:  # fold the lowest bins into the first kept one
        excess = len(dense) - MAX_BINS
        folded = sum(dense[: excess + 1])
        dense = [folded] + dense[excess + 1:]
        low += excess
    return low, tuple(dense)


def _merge_bins(offset: int, counts: tuple[int, ...], other_offset: int, other_counts: tuple[int, ...],
                ) -> tuple[int, tuple[int, ...]]:
    """``_add_bins`` of the other sketch's nonzero bins, added list to list (statistics merge a few
    sketches of a few hundred bins per update: a dict of the bins cost more than the update).

    Both give the same when the other's outer bins are nonzero, as every sketch built here has (the
    index range is then the union of the two ranges); anything else goes through ``_add_bins``.
    """
    size = len(other_counts)
    if not counts or not size or not other_counts[0] or not other_counts[-1]:
        return _add_bins(offset, counts, {other_offset + i: n for i, n in enumerate(other_counts) if n})
    end, other_end = offset + len(counts), other_offset + size
    if offset <= other_offset and other_end <= end:  # a few new bins into a long series (a bucket, all time)
        low, dense = offset, list(counts)
        at = other_offset - offset
        for i, n in enumerate(other_counts, at):
            if n:
                dense[i] += n
    else:
        low, high = min(offset, other_offset), max(end, other_end)
        dense = list(map(add, [0] * (offset - low) + list(counts) + [0] * (high - end),
                         [0] * (other_offset - low) + list(other_counts) + [0] * (high - other_end)))
    if len(dense) > MAX_BINS:  # as _add_bins: fold the lowest bins into the first kept one
        excess = len(dense) - MAX_BINS
        dense = [sum(dense[: excess + 1])] + dense[excess + 1:]
        low += excess
    return low, tuple(dense)


def merge_all(sketches: Iterable[DDSketch]) -> DDSketch:
    result = EMPTY
    for sketch in sketches:
        result = result.merge(sketch)
    return result
