"""Replay guard: apply each source message to each state value exactly once.

Faust is at-least-once: after a crash the worker resumes from the last committed offset and
processes again messages whose effects may already be in its tables (the local RocksDB store and
the changelog are written before the offset is committed). So every state value remembers the
last source position applied to it, and a message at or below that position is not applied
again. (Faust's ``exactly_once`` would make the whole app transactional, including the pricing
agent; the guard needs nothing from the broker and costs one integer per value.)

Positions:

* ``c<partition>``: the costed topic's own partition and offset (always present). A key of a
  table co-partitioned with the costed topic is only ever updated from one partition, so its
  offsets only grow.
* ``r<partition>``: the highest raw offset per raw partition whose calls the value has counted,
  from the ``ailedger-src`` header the pricing stage sends on every costed message: the raw
  messages its calls came from, in order, as ``<partition>:<offset>:<calls>`` segments joined
  by ``,`` (``b"1:77:200,1:78:140"``; the older ``b"1:77"`` means every call came from raw
  ``1:77``). The pricing stage is at-least-once: after a crash it prices raw messages again
  and sends their calls a second time, in new costed messages, grouped as the new run takes
  them. One pricing owner per raw partition at a time sends its calls in raw offset order, so a
  new costed message's calls from raw offsets at or below the value's mark were counted
  before: they are dropped, call by call, and the rest is applied. (Replays of costed messages
  already applied are not filtered again: when a crash also lost their forwarded spend or a
  daily row, calls the first pass dropped as pricing duplicates are counted there once more.)

A value that is already up to date when its message is replayed is written again unchanged, so
that its changelog record (which the crash may have lost) is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

SOURCE_HEADER = "ailedger-src"

Decision = Literal["apply", "replay", "duplicate"]


#: ``(raw partition, raw offset, number of calls)``; calls ``-1``: every remaining call.
Segment = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Position:
    partition: int
    offset: int
    raw: tuple[Segment, ...] | None = None  # where the calls came from (the ``ailedger-src`` header)

    @property
    def costed_key(self) -> str:
        return f"c{self.partition}"


def _raw_key(partition: int) -> str:
    return f"r{partition}"


def source_header(segments: list[list[int]] | list[Segment]) -> bytes:
    """The ``ailedger-src`` value for calls that came from ``segments`` (in order)."""
    return ",".join(f"{p}:{o}:{n}" for p, o, n in segments).encode()


def cut_sources(segments: list[list[int]], sizes: list[int]) -> list[list[list[int]]]:
    """``[raw partition, raw offset, calls]`` segments cut where the calls are cut into costed
    messages of ``sizes[0]``, ``sizes[1]`` ... calls (the pricing stage sends one header per
    costed message; a call past the sizes goes in one last message)."""
    chunks: list[list[list[int]]] = [[]]
    room, index = sizes[0], 0
    for partition, offset, calls in segments:
        while calls:
            if room == 0:
                chunks.append([])
                index += 1
                room = sizes[index] if index < len(sizes) else calls
            taken = min(calls, room)
            chunks[-1].append([partition, offset, taken])
            calls -= taken
            room -= taken
    return chunks


def parse_source_header(headers: Mapping[str, bytes] | list | None) -> tuple[Segment, ...] | None:
    """The segments of the ``ailedger-src`` header, if present and well-formed."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if name == SOURCE_HEADER and value:
            try:
                segments = []
                for part in bytes(value).decode().split(","):
                    fields = [int(f) for f in part.split(":")]
                    if len(fields) == 2:
                        fields.append(-1)
                    partition, offset, calls = fields  # ValueError unless 2 or 3 fields
                    segments.append((partition, offset, calls))
                return tuple(segments)
            except (ValueError, UnicodeDecodeError):
                return None
    return None


def decide(applied: Mapping[str, int], pos: Position) -> Decision:
    """What to do with the message at ``pos`` for a value that has ``applied``: ``replay`` if its
    costed offset is done, ``duplicate`` if every raw message it came from is, else ``apply``
    (of the calls :func:`fresh_indices` keeps)."""
    if applied.get(pos.costed_key, -1) >= pos.offset:
        return "replay"
    if pos.raw and all(applied.get(_raw_key(p), -1) >= o for p, o, _ in pos.raw):
        return "duplicate"
    return "apply"


def fresh_indices(applied: Mapping[str, int], pos: Position, n: int) -> list[int] | None:
    """The indices of the calls to apply of a message of ``n`` calls (``None``: all of them, in
    order): those from raw messages past the value's raw marks, each raw message once (a run
    that read one twice, after a seek back, carries its calls twice)."""
    if not pos.raw:
        return None
    marks = {p: applied.get(_raw_key(p), -1) for p, _, _ in pos.raw}
    keep: list[tuple[int, int]] = []  # (start, end) of the calls to keep
    start = 0
    for partition, offset, count in pos.raw:
        end = n if count < 0 else start + count
        if offset > marks[partition]:
            keep.append((start, end))
            marks[partition] = offset
        start = end
    if start != n or len(keep) == len(pos.raw):  # a header that does not describe the calls (trust the
        return None  # costed guard), or every segment kept: all the calls, in order
    return [i for s, e in keep for i in range(s, min(e, n))]


def counted_before(applied: Mapping[str, int], pos: Position) -> list[Segment]:
    """The segments of ``pos`` whose raw messages the value has counted already (what
    :func:`fresh_indices` drops, or all of them for a duplicate); logged, so a restart's replays show."""
    return [s for s in pos.raw or () if s[1] <= applied.get(_raw_key(s[0]), -1)]


def describe_segments(segments: Sequence[Segment], limit: int = 6) -> str:
    """``"0:12-40 (200 calls), 3:7 (25 calls)"``: segments by raw partition, offsets as ranges."""
    by_partition: dict[int, list[int]] = {}
    calls: dict[int, int | None] = {}
    for partition, offset, count in segments:
        by_partition.setdefault(partition, []).append(offset)
        known = calls.get(partition, 0)
        calls[partition] = None if known is None or count < 0 else known + count  # -1: the older header
    parts = []
    for partition in sorted(by_partition)[:limit]:
        offsets = sorted(set(by_partition[partition]))
        span = str(offsets[0]) if len(offsets) == 1 else f"{offsets[0]}-{offsets[-1]}"
        gaps = "" if len(offsets) in (1, offsets[-1] - offsets[0] + 1) else f" ({len(offsets)} messages)"
        count = "" if calls[partition] is None else f" ({calls[partition]} calls)"
        parts.append(f"{partition}:{span}{gaps}{count}")
    return ", ".join(parts)


def mark(applied: Mapping[str, int], pos: Position) -> dict[str, int]:
    """``applied`` with ``pos`` recorded (duplicates are recorded too: their costed offset is done)."""
    marked = dict(applied)
    marked[pos.costed_key] = max(pos.offset, marked.get(pos.costed_key, -1))
    for partition, offset, _ in pos.raw or ():
        marked[_raw_key(partition)] = max(offset, marked.get(_raw_key(partition), -1))
    return marked


def seen(applied_offset: int, pos: Position) -> bool:
    """For values keeping one costed offset (daily rows, which follow the prompt type's decision)."""
    return applied_offset >= pos.offset
