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
* ``r<partition>``: the raw topic's partition and offset the costed message was priced from,
  when the pricing stage sends it in the ``ailedger-src`` header (``b"<partition>:<offset>"``).
  The pricing stage itself is at-least-once: after a crash it prices raw messages again and
  sends their costed messages a second time, at new costed offsets. One raw message gives at
  most one costed message per prompt type, so a per-prompt-type state that has applied raw
  offset ``o`` recognises a new costed message carrying raw offset ``<= o`` as such a duplicate.

A value that is already up to date when its message is replayed is written again unchanged, so
that its changelog record (which the crash may have lost) is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

SOURCE_HEADER = "ailedger-src"

Decision = Literal["apply", "replay", "duplicate"]


@dataclass(frozen=True, slots=True)
class Position:
    partition: int
    offset: int
    raw: tuple[int, int] | None = None  # (raw partition, raw offset) from the header

    @property
    def costed_key(self) -> str:
        return f"c{self.partition}"

    @property
    def raw_key(self) -> str | None:
        return None if self.raw is None else f"r{self.raw[0]}"


def parse_source_header(headers: Mapping[str, bytes] | list | None) -> tuple[int, int] | None:
    """``(partition, offset)`` from the ``ailedger-src`` header, if present and well-formed."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if name == SOURCE_HEADER and value:
            try:
                partition, offset = bytes(value).decode().split(":")
                return int(partition), int(offset)
            except (ValueError, UnicodeDecodeError):
                return None
    return None


def decide(applied: Mapping[str, int], pos: Position) -> Decision:
    """What to do with the message at ``pos`` for a value that has ``applied``."""
    if applied.get(pos.costed_key, -1) >= pos.offset:
        return "replay"
    if pos.raw is not None and applied.get(pos.raw_key, -1) >= pos.raw[1]:  # type: ignore[arg-type]
        return "duplicate"
    return "apply"


def mark(applied: Mapping[str, int], pos: Position) -> dict[str, int]:
    """``applied`` with ``pos`` recorded (duplicates are recorded too: their costed offset is done)."""
    marked = dict(applied)
    marked[pos.costed_key] = max(pos.offset, marked.get(pos.costed_key, -1))
    if pos.raw is not None:
        marked[pos.raw_key] = max(pos.raw[1], marked.get(pos.raw_key, -1))  # type: ignore[index]
    return marked


def seen(applied_offset: int, pos: Position) -> bool:
    """For values keeping one costed offset (daily rows, which follow the prompt type's decision)."""
    return applied_offset >= pos.offset
