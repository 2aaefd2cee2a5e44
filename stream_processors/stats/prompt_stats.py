"""Per-prompt-type statistics: all time plus rolling 1-hour and 24-hour windows.

Design: the state value holds two short series of time buckets, by event time (``occurred_at``):
five-minute buckets covering the last hour, one-hour buckets covering the last day. A window is
the merge of the buckets that fall inside it, computed when read, so it moves with the clock
even when no call comes; buckets older than their series are dropped on every update. This is
exact at bucket granularity (the 1-hour window is the current five-minute bucket and the 11
before it, so it spans 55 to 60 minutes; the 24-hour window the current hour and the 23 before it) and simpler to recover than Faust's
windowed tables (one key, one value, one changelog record per update).

Calls older than a series still count in ``all_time``; calls up to a day in the future (the
event validator's clock-skew limit) wait in their bucket until their time comes.

``update`` is pure: ``now`` is a parameter, the state is a new value.
"""

from __future__ import annotations

from datetime import datetime, timezone

from dataclasses import dataclass, replace

from schemas.stats import PromptTypeStatsView
from stream_processors.stats.batch import Calls, as_batch
from stream_processors.stats.totals import Totals, merge_totals, summarize, totals_of

#: (bucket width in seconds, buckets kept): the series behind the rolling windows.
MINUTES = (300, 12)
HOURS = (3600, 24)


@dataclass(frozen=True, slots=True)
class PromptTypeStats:
    prompt_type: str
    first_seen_at: datetime | None = None
    last_call_at: datetime | None = None
    updated_at: datetime | None = None
    all_time: Totals = Totals()
    minutes: tuple[Totals, ...] = ()
    hours: tuple[Totals, ...] = ()


def _floor(ts: float, width: int) -> int:
    return int(ts // width) * width


def _merge_series(series: tuple[Totals, ...], parts: dict[int, Totals], width: int, keep: int,
                  now_ts: float) -> tuple[Totals, ...]:
    """``series`` with the fine ``parts`` (start -> totals) added into buckets of ``width``."""
    oldest = _floor(now_ts, width) - (keep - 1) * width
    by_start = {b.start: b for b in series if b.start >= oldest}
    for part_start, part in parts.items():
        start = _floor(part_start, width)
        if start < oldest:
            continue
        part = replace(part, start=start)
        by_start[start] = by_start[start].merge(part) if start in by_start else part
    return tuple(by_start[s] for s in sorted(by_start))


def update(state: PromptTypeStats | None, calls: Calls, now: datetime) -> PromptTypeStats:
    """``state`` with ``calls`` (all of one prompt type) added; old buckets dropped."""
    batch = as_batch(calls)
    if state is None:
        if not len(batch):
            raise ValueError("cannot start statistics without a call")
        state = PromptTypeStats(prompt_type=batch.prompt_type[0])
    if not len(batch):
        return state
    now_ts = now.timestamp()
    width = MINUTES[0]
    # Calls older than the longest series count in all_time only: summed once, not per bucket
    # (a backfill or replay spreads a run over hundreds of five-minute buckets).
    oldest_kept = _floor(now_ts, HOURS[0]) - (HOURS[1] - 1) * HOURS[0]
    times = batch.occurred_at
    first, last = min(times), max(times)  # the first of equals, as a loop would keep
    groups: dict[int, list[int] | None]  # bucket start -> the indices of its calls (None: every call)
    old: list[int] = []
    first_ts = first.timestamp()
    start = int(first_ts // width) * width  # _floor: the finest buckets; coarser ones merge these
    if first_ts >= oldest_kept and int(last.timestamp() // width) * width == start:  # live traffic, mostly
        groups = {start: None}
    else:
        groups = {}
        for i, ts in enumerate(batch.timestamps()):
            if ts < oldest_kept:
                old.append(i)
            else:
                groups.setdefault(int(ts // width) * width, []).append(i)  # type: ignore[union-attr]
    parts = {start: totals_of(batch, start, indices) for start, indices in groups.items()}
    return PromptTypeStats(
        prompt_type=state.prompt_type,
        first_seen_at=first if state.first_seen_at is None else min(state.first_seen_at, first),
        last_call_at=last if state.last_call_at is None else max(state.last_call_at, last),
        updated_at=now,
        all_time=merge_totals([state.all_time, *([totals_of(batch, 0, old)] if old else []), *parts.values()]),
        minutes=_merge_series(state.minutes, parts, *MINUTES, now_ts),
        hours=_merge_series(state.hours, parts, *HOURS, now_ts),
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def to_wire(state: PromptTypeStats) -> dict:
    """The compact JSON-ready form stored in the table and published to the API."""
    return {
        "prompt_type": state.prompt_type,
        "first_seen_at": _iso(state.first_seen_at),
        "last_call_at": _iso(state.last_call_at),
        "updated_at": _iso(state.updated_at),
        "all_time": state.all_time.to_wire(),
        "minutes": [b.to_wire() for b in state.minutes],
        "hours": [b.to_wire() for b in state.hours],
    }


def from_wire(wire: dict) -> PromptTypeStats:
    return PromptTypeStats(
        prompt_type=str(wire["prompt_type"]),
        first_seen_at=_time(wire.get("first_seen_at")),
        last_call_at=_time(wire.get("last_call_at")),
        updated_at=_time(wire.get("updated_at")),
        all_time=Totals.from_wire(wire["all_time"]),
        minutes=tuple(Totals.from_wire(b) for b in wire.get("minutes", ())),
        hours=tuple(Totals.from_wire(b) for b in wire.get("hours", ())),
    )


def window_totals(state: PromptTypeStats, now: datetime, seconds: int) -> Totals:
    """Totals of the buckets inside the last ``seconds`` (at the finest series that covers it)."""
    width, keep = MINUTES if seconds <= MINUTES[0] * MINUTES[1] else HOURS
    series = state.minutes if width == MINUTES[0] else state.hours
    if seconds > width * keep:
        raise ValueError(f"no series covers {seconds} s")
    buckets = max(1, seconds // width)
    current = _floor(now.timestamp(), width)
    oldest = current - (buckets - 1) * width
    return merge_totals(b for b in series if oldest <= b.start <= current)


def view(state: PromptTypeStats, now: datetime | None = None) -> PromptTypeStatsView:
    """The figures for the API: all time, last hour, last 24 hours (relative to ``now``)."""
    now = now or datetime.now(timezone.utc)
    return PromptTypeStatsView(
        prompt_type=state.prompt_type,
        first_seen_at=state.first_seen_at,
        last_call_at=state.last_call_at,
        updated_at=state.updated_at,
        all_time=summarize(state.all_time),
        last_1h=summarize(window_totals(state, now, 3600), 3600),
        last_24h=summarize(window_totals(state, now, 86400), 86400),
    )

