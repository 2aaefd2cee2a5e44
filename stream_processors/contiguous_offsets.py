"""Read the event topics in offset order, and commit an offset only once everything before it
was processed.

Two faults of Faust's consumer lost calls with nothing left to consume (seen once in CI: the
worker kill test's restarted worker committed the raw topic to its end with 1,475 of 2,874
calls never priced):

- A changelog recovery resumes fetching before it seeks the stream partitions to their committed
  offsets. Messages fetched in between are dropped from the suspended streams' queues, and a
  partition with no committed offset is not sought at all, so they are never read again
  (observed: the restarted worker's first ack on each raw partition was at 66-96, not 0).
- Faust commits the run of acked offsets without checking that it starts at the committed
  offset while a partition has none, allows it to start one past it otherwise, and counts the
  offsets of a *gap* (a jump in the offsets it reads: a compacted topic, transaction markers,
  or a message fetched before a seek arriving after it, faust-streaming #221 and #606) as
  processed.

ailedger's event topics (raw, costed, spend) are never compacted and never written in
transactions: their offsets have no gaps. On those topics this consumer

- delivers each partition's messages in offset order from where it was last sought: a message
  fetched before a seek is dropped, and a jump sends the partition back to the offset it
  expected (unless retention deleted it), so streams never see an offset twice out of order
  or miss one. Faust's own read-offset check is bypassed for them;
- seeks a partition with no committed offset to its log start when Faust seeks the others to
  theirs (what ``auto_offset_reset=earliest`` means);
- reads again what Faust's flow control clears from the streams' queues: it clears them on
  every resume, and a recovery resumes once before its seek and once after, so what was
  handed on in between (from the log start just sought to, too) was thrown away;
- fills no gap, and commits a partition only up to its first offset no stream acked, counting
  from the committed offset or the log start (:func:`committable`);
- as a last resort, seeks a partition whose next offset was never acked although later ones
  were (streams ack in order, :mod:`.taking`) back to it, so it is read again.

Reading again is at least once, as after any crash: every stage downstream is idempotent by
``event_id`` and version, and the live statistics count a costed message's calls once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, AsyncIterator, Iterable, Sequence

from faust.utils.functional import consecutive_numbers

log = logging.getLogger(__name__)

#: A partition sent back to an offset is not sent back again within this many seconds (messages
#: fetched before the seek may still arrive first; they are dropped meanwhile).
RESEEK_SECONDS = 2.0


def committable(acked: Sequence[int], expected: int | None) -> tuple[int | None, int | None]:
    """``(offset to commit, skipped offset)`` for a partition whose acked offsets are ``acked``
    (sorted, none below ``expected``) and whose next unprocessed offset is ``expected`` (None:
    unknown, the run starts where the acks start). The commit is the end of the run of
    consecutive acked offsets that starts at ``expected``; when the first ack lies beyond
    ``expected``, nothing is committed and ``expected`` is the skipped offset."""
    if not acked:
        return None, None
    if expected is not None and acked[0] > expected:
        return None, expected
    run = next(consecutive_numbers(acked))
    return run[-1] + 1, None


class ContiguousOffsets:
    """Mixin for Faust's consumer class (put it first): the policy above for the topics named
    in ``contiguous_topics``; Faust's own for every other topic."""

    contiguous_topics: frozenset[str] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next: dict[Any, int] = {}  # partition -> the offset its stream gets next
        self._resent: dict[Any, float] = {}  # partition -> when it was last sent back to ``_next``
        self._log_starts: dict[Any, int] = {}  # partitions with no committed offset: their log start
        self._skipped: dict[Any, int] = {}  # partition -> an offset never acked, later ones acked
        self._watch_queue_clears(self.app.flow_control)

    def _is_contiguous(self, tp: Any) -> bool:
        return tp.topic in self.contiguous_topics

    # -- reading ---------------------------------------------------------------------------

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        read_offset, contiguous = self._read_offset, self.contiguous_topics
        async for tp, message in super().getmany(timeout):
            if tp.topic in contiguous:
                want, offset = self._next.get(tp), message.offset
                if want is not None and offset != want and not await self._accept_jump(tp, want, offset):
                    continue
                self._next[tp] = offset + 1
                read_offset[tp] = None  # the order is checked here; Faust's check drops re-reads
            yield tp, message

    async def _accept_jump(self, tp: Any, want: int, offset: int) -> bool:
        """Whether to deliver ``offset`` where ``want`` was next. Offsets below ``want`` were
        fetched before a seek; above it, the partition is sent back to ``want`` (every
        ``RESEEK_SECONDS`` at most) unless retention deleted the offsets in between."""
        if offset < want:
            return False
        if time.monotonic() - self._resent.get(tp, float("-inf")) < RESEEK_SECONDS:
            return False
        start = (await self.earliest_offsets(tp)).get(tp)
        if start is not None and start > want:
            log.warning("%s:%d offsets %d-%d were deleted (retention) before they were read",
                        tp.topic, tp.partition, want, start - 1)
            want = start
            if offset == want:
                return True
        log.info("%s:%d read offset %d where %d was next; reading again from %d",
                 tp.topic, tp.partition, offset, want, want)
        await self.seek(tp, want)
        return False

    async def seek(self, partition: Any, offset: int) -> None:
        if not self._is_contiguous(partition):
            await super().seek(partition, offset)
            return
        # Faust seeks from the event loop's thread while the consumer's thread may be handing
        # out the partition's fetched records (a KeyError in aiokafka crashed a worker): seek there
        thread = self._thread
        await thread.call_thread(thread._ensure_consumer().seek, partition, offset)
        self._read_offset[partition] = None
        self._next[partition] = offset
        self._resent[partition] = time.monotonic()

    async def perform_seek(self) -> None:
        await super().perform_seek()
        assigned = [tp for tp in self.assignment() if self._is_contiguous(tp)]
        fresh = []
        for tp in assigned:
            committed = self._committed_offset.get(tp)
            if committed is None:
                fresh.append(tp)
            else:
                self._next[tp] = committed
        self._log_starts = dict(await self.earliest_offsets(*fresh)) if fresh else {}
        for tp, start in self._log_starts.items():
            await self.seek(tp, start)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await super().on_partitions_revoked(revoked)
        for tp in revoked:
            for state in (self._next, self._resent, self._log_starts, self._skipped):
                state.pop(tp, None)

    def _watch_queue_clears(self, flow_control: Any) -> None:
        """Read again what Faust's flow control clears from the streams' queues. It clears them
        on every resume, and a recovery resumes once before it seeks the stream partitions and
        once after: messages handed on in between (the ones from a log start sought to, too)
        were thrown away with nothing to read them again."""
        clear = flow_control.clear

        def clear_and_read_again() -> None:
            cleared: dict[Any, int] = {}
            # a rebalance stops the flow before it clears: its seek to the committed offsets
            # comes after, and a re-read scheduled now could land after that seek
            for queue in list(flow_control._queues) if self.flow_active else ():
                for item in list(getattr(queue, "_queue", ())):
                    message = getattr(item, "message", item)
                    tp, offset = getattr(message, "tp", None), getattr(message, "offset", None)
                    if tp is not None and offset is not None and self._is_contiguous(tp):
                        cleared[tp] = min(offset, cleared.get(tp, offset))
            clear()
            for tp, offset in cleared.items():
                if offset < self._next.get(tp, offset):
                    self._next[tp] = offset
                    self._resent[tp] = time.monotonic()  # later offsets are dropped until the seek
                    asyncio.ensure_future(self._seek_if_next(tp, offset))

        flow_control.clear = clear_and_read_again

    async def _seek_if_next(self, tp: Any, offset: int) -> None:
        """Seek ``tp`` to ``offset`` unless another seek (a rebalance's) moved it meanwhile."""
        if self._next.get(tp) != offset or tp not in self.assignment():
            return
        log.info("%s:%d messages from offset %d were cleared from a stream's queue; reading them again",
                 tp.topic, tp.partition, offset)
        await self.seek(tp, offset)

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        if not self._is_contiguous(tp):
            await super()._add_gap(tp, offset_from, offset_to)

    # -- committing ------------------------------------------------------------------------

    def _new_offset(self, tp: Any) -> int | None:
        if not self._is_contiguous(tp):
            return super()._new_offset(tp)
        acked = self._acked[tp]
        acked.sort()
        expected = self._committed_offset.get(tp)
        if expected is None:
            expected = self._log_starts.get(tp)
        if expected is not None and acked and acked[0] < expected:  # acked again after the commit
            self._forget(tp, [o for o in acked if o < expected])
        offset, skipped = committable(acked, expected)
        if skipped is not None:
            self._skipped[tp] = skipped
            return None
        self._skipped.pop(tp, None)
        if offset is not None:
            self._forget(tp, [o for o in acked if o < offset])
        return offset

    def _forget(self, tp: Any, offsets: list[int]) -> None:
        del self._acked[tp][:len(offsets)]
        self._acked_index[tp].difference_update(offsets)

    async def force_commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        did_commit = await super().force_commit(topics, start_new_transaction=start_new_transaction)
        await self._read_skipped_again(self.assignment())
        return did_commit

    async def _read_skipped_again(self, assigned: Iterable[Any]) -> None:
        assigned = set(assigned)
        now = time.monotonic()
        for tp, offset in list(self._skipped.items()):
            if tp not in assigned:
                self._skipped.pop(tp, None)
            elif self.flow_active and now - self._resent.get(tp, float("-inf")) >= RESEEK_SECONDS:
                log.warning("%s:%d offset %d was never processed although later ones were; reading again from it",
                            tp.topic, tp.partition, offset)
                await self.seek(tp, offset)
