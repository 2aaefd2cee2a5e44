"""What the worker may commit on its event topics: only offsets every message before was processed."""

import asyncio
from collections import namedtuple
from types import SimpleNamespace

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from stream_processors.contiguous_offsets import ContiguousOffsets, committable


def test_commits_the_run_of_acked_offsets_from_the_committed_one():
    assert committable([5, 6, 7, 9, 10], expected=5) == (8, None)


def test_a_first_ack_beyond_the_committed_offset_is_a_skip_not_a_commit():
    # Faust commits 8 here (it allows the run to start one past the committed offset)
    assert committable([6, 7], expected=5) == (None, 5)
    # and a gap Faust filled after a jump would have put 5..12 in the acks: nothing is filled here
    assert committable([13, 14], expected=5) == (None, 5)


def test_a_partition_never_committed_counts_from_its_log_start():
    assert committable([0, 1, 2], expected=0) == (3, None)
    assert committable([3, 4], expected=0) == (None, 0)  # Faust commits 5: offsets 0-2 lost


def test_unknown_start_commits_the_first_run_and_no_acks_commit_nothing():
    assert committable([4, 5, 7], expected=None) == (6, None)
    assert committable([], expected=3) == (None, None)


# -- the reading side, over a scripted stand-in for Faust's consumer ------------------------

TP = namedtuple("TP", "topic partition")
Message = namedtuple("Message", "offset")
Event = namedtuple("Event", "message")
QueuedMessage = namedtuple("QueuedMessage", "tp offset")
RAW = TP("raw", 0)


class ScriptedConsumer:
    """What ContiguousOffsets needs of Faust's consumer: fetched batches it hands out, a log start."""

    def __init__(self, batches, log_start=0):
        self.batches = list(batches)
        self.log_start = log_start
        self.sought: list[int] = []
        self._read_offset: dict = {}
        self.app = SimpleNamespace(flow_control=FlowControlEvent())
        self.flow_active = True

    def assignment(self):
        return {RAW}

    async def getmany(self, timeout):
        for tp, offset in self.batches.pop(0):
            yield tp, Message(offset)

    async def earliest_offsets(self, *tps):
        return {tp: self.log_start for tp in tps}


class Reader(ContiguousOffsets, ScriptedConsumer):
    contiguous_topics = frozenset({"raw"})

    async def seek(self, partition, offset):  # the thread hop is Faust's; the bookkeeping is ours
        self.sought.append(offset)
        self._next[partition] = offset
        self._resent[partition] = -1e9  # no cool-down in a test


def read(consumer: Reader) -> list[int]:
    async def drain():
        return [m.offset async for _, m in consumer.getmany(0)]
    return asyncio.run(drain())


def test_offsets_are_handed_on_in_order_and_a_jump_sends_the_partition_back():
    reader = Reader([[(RAW, 10), (RAW, 11), (RAW, 40), (RAW, 41)], [(RAW, 12), (RAW, 13)]])
    reader._next[RAW] = 10
    assert read(reader) == [10, 11]  # 40 is a jump: the partition goes back to 12, 41 is dropped too
    assert reader.sought[0] == 12
    assert read(reader) == [12, 13]


def test_messages_fetched_before_a_seek_are_dropped():
    reader = Reader([[(RAW, 95), (RAW, 96), (RAW, 0), (RAW, 1)]])
    reader._next[RAW] = 0
    reader._resent[RAW] = float("inf")  # just sought to 0: 95, 96 are from before, not a jump
    assert read(reader) == [0, 1]


def test_offsets_retention_deleted_are_skipped_with_a_warning(caplog):
    reader = Reader([[(RAW, 500), (RAW, 501)]], log_start=500)
    reader._next[RAW] = 10
    assert read(reader) == [500, 501]
    assert "offsets 10-499 were deleted" in caplog.text


def test_other_topics_pass_as_faust_hands_them_on():
    other = TP("compacted", 0)
    reader = Reader([[(other, 3), (other, 9), (RAW, 0)]])
    assert read(reader) == [3, 9, 0]


def test_messages_a_flow_control_resume_clears_from_the_queues_are_read_again():
    async def scenario():
        reader = Reader([])
        queue = FlowControlQueue(maxsize=10, flow_control=reader.app.flow_control, clear_on_resume=True)
        for offset in (5, 6):  # handed on to a stream, still in its queue
            queue.put_nowait(Event(QueuedMessage(RAW, offset)))
        reader._next[RAW] = 7
        reader.app.flow_control.resume()  # Faust's recovery does this after its seek
        assert queue.empty()
        await asyncio.sleep(0)
        return reader.sought, reader._next[RAW]

    assert asyncio.run(scenario()) == ([5], 5)


def test_a_rebalance_clearing_the_queues_leaves_the_re_read_to_its_own_seek():
    async def scenario():
        reader = Reader([])
        queue = FlowControlQueue(maxsize=10, flow_control=reader.app.flow_control, clear_on_resume=True)
        queue.put_nowait(Event(QueuedMessage(RAW, 5)))
        reader._next[RAW] = 6
        reader.flow_active = False  # Faust stops the flow before a rebalance clears the queues
        reader.app.flow_control.clear()
        await asyncio.sleep(0)
        return queue.empty(), reader.sought

    assert asyncio.run(scenario()) == (True, [])
