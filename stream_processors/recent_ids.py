"""The event ids this worker priced last, so an event a producer published twice is priced once.

A producer re-sends an event when the broker's acknowledgement was lost in transit (the broker
had written it) or when it crashed between an acknowledgement and its spool's cursor write
(docs/sdk.md). The copy is a second raw message with the same ``event_id``. ClickHouse keeps one
row per ``event_id`` and version either way, but the live statistics counted both copies. Raw
messages are keyed by account, so both copies reach the same raw partition, and so the same
pricing owner, usually seconds apart. This keeps the ids of the last ``capacity`` calls or so
(``AILEDGER_DEDUP_WINDOW``, default 200,000: ~10 MB, ~0.5 us per call) and drops a call whose id
it holds before it goes into a costed message.

Not covered: a copy that arrives more than ``capacity // 2`` calls later, or after the partition
moved to another worker (or the worker restarted) since the first copy was priced. Two events with
one ``event_id`` are one call by the event contract; ClickHouse keeps one of them too.
"""

from __future__ import annotations

from typing import Hashable
from uuid import UUID

from schemas.costed_columns import PricedCall


class RecentIds:
    """The ids of at least the last ``capacity // 2`` and at most ``capacity`` calls kept, in two
    generations of sets (a full generation becomes the old one, the old one is forgotten: no
    per-id bookkeeping). ``capacity`` 0 keeps nothing and drops nothing."""

    def __init__(self, capacity: int):
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self.capacity = capacity
        self.dropped = 0
        self._new: set[Hashable] = set()
        self._old: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._new) + len(self._old)

    def __contains__(self, event_id: Hashable) -> bool:
        key = event_id.int if type(event_id) is UUID else event_id
        return key in self._new or key in self._old

    def drop_seen(self, calls: list[PricedCall], run: set[Hashable]) -> list[PricedCall]:
        """``calls`` without those whose ``event.event_id`` is kept or in ``run``
        (the ids of the run so far, to which the others are added)."""
        if not self.capacity:
            return calls
        new, old = self._new, self._old
        kept = []
        for call in calls:
            event_id = call.event.event_id
            if type(event_id) is UUID:
                event_id = event_id.int  # smaller than the UUID, and hashed in C
            if event_id in run or event_id in new or event_id in old:
                continue
            run.add(event_id)
            kept.append(call)
        self.dropped += len(calls) - len(kept)
        return kept

    def remember(self, run: set[Hashable]) -> None:
        """Keep a run's ids, once its costed messages are sent (a run that failed before must be
        priced whole when it is read again)."""
        if not self.capacity:
            return
        self._new |= run
        if len(self._new) >= max(1, self.capacity // 2):
            self._old, self._new = self._new, set()
