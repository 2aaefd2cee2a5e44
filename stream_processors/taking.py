"""``take_acked``: Faust's ``Stream.take_events`` without its loss on cancel.

Faust's cost is per message, so agents work on runs of messages. ``Stream.take_events`` acks
its buffer in a ``finally`` block, and Faust's plain iteration acks the message in hand the
same way: when a worker stops or is cancelled in the middle of a run, the run is acked (and
its offsets committed at the next commit) although its output was never sent. On the
two-worker test that lost a few hundred events each time a worker left the group.

``take_acked`` acks a run only when the body has finished with it, i.e. when the ``async for``
asks for the next run, and once the broker has acknowledged everything the body sent
(:mod:`stream_processors.delivery`: Faust's flush before a commit ignores failed sends). The
acks happen in a task, runs in order, so the body goes on with the next run meanwhile. A run
whose body was cancelled or raised stays unacked, so its offsets are never committed and the
partition's next owner reads it again (at least once; every stage downstream is idempotent by
``event_id`` and version).
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

from faust.types import EventT, StreamT
from mode import Seconds, want_seconds
from mode.utils.aiter import aiter
from mode.utils.futures import notify

from stream_processors import delivery


def take_acked(stream: StreamT, max_: int, within: Seconds) -> AsyncIterator[list[EventT]]:
    """Yield runs of up to ``max_`` events (or what arrived within ``within`` seconds);
    each run is acked only after the body has processed it."""
    agen = _take_acked(stream, max_, within)
    stream._active_agens.add(agen)  # Stream.on_stop closes it (as Faust's own take helpers)
    return agen


async def _take_acked(stream: Any, max_: int, within: Seconds) -> AsyncIterator[list[EventT]]:
    events: list[EventT] = []
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    timeout = want_seconds(within)
    consuming: asyncio.Future | None = None
    acking: asyncio.Future | None = None  # the acks of the last run handed to the body
    channel_it = aiter(stream.channel)

    async def add_to_buffer(value: Any) -> Any:
        nonlocal consuming
        if consuming is not None:  # the body is working on a run: wait until it is done
            try:
                await consuming
            finally:
                consuming = None
        event = stream.current_event
        if event is None:
            raise RuntimeError("take_acked found no current event")
        events.append(event)
        if len(events) >= max_:
            buffer_full.set()
            buffer_consumed.clear()
            await stream.wait(buffer_consumed)
        return value

    previous_acks = stream.enable_acks
    stream.enable_acks = False  # acked below, only after the body
    stream.add_processor(add_to_buffer)
    stream._enable_passive(channel_it)
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(buffer_full, timeout=timeout)
            if not events:
                continue
            consuming = stream.loop.create_future()
            run = list(events)
            events.clear()
            sends = delivery.start_run()
            try:
                yield run
                # reached only when the body asked for the next run: ack it once its sends are
                # delivered, after the run before it, while the body goes on with the next run
                acking = asyncio.ensure_future(_ack_when_delivered(stream, run, sends, acking))
                acking.add_done_callback(_retrieve)  # a failure is logged and crashes the worker
            finally:
                notify(consuming)
                buffer_full.clear()
                buffer_consumed.set()
    finally:
        stream.enable_acks = previous_acks
        stream._processors.remove(add_to_buffer)


async def _ack_when_delivered(stream: Any, run: list[EventT], sends: list, previous: asyncio.Future | None) -> None:
    """Ack ``run`` once the run before it is acked and every send of ``run`` is delivered, so the
    acked offsets of a partition are always a prefix (Faust commits up to the first gap, but not
    when the partition has no committed offset yet). A failed delivery crashes the worker and
    leaves this run and every later one unacked."""
    if previous is not None:
        await previous
    await delivery.wait_delivered(sends, stream.app)
    for event in run:
        await stream.ack(event)


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()
