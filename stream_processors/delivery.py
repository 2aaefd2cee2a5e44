"""Sends a run waits for: its input is acked only after every output it sent is on the broker.

Faust's at-least-once commits an input's offset once the message is acked and the producer
flushed, but a flush only waits for the sends to *finish*: a send the broker refused (a message
too large for the topic, a topic gone, retries exhausted) is logged as a warning
(``_on_published error``) and its input is committed anyway. The calls of that costed message
were then lost with nothing left to consume.

So every send an agent makes while working on a run goes through :func:`send`, and every table
write's changelog record through :class:`DeliveredTable` (the app's table class); both note the
delivery future in the run's list (a context variable that :func:`~stream_processors.taking.take_acked`
sets for each run). ``take_acked`` waits for the list (:func:`wait_delivered`) before it acks the
run. A send that failed raises :class:`DeliveryFailed` there and crashes the worker: the broker
refusing a write is an infrastructure failure, and the run, never acked, is read again by the
partition's next owner (the restarted worker). Sends made outside a run (the live views' timer)
are waited for by :func:`undelivered`, which names the refused ones so the sender can send them again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from contextvars import ContextVar
from typing import Any, Awaitable

import faust

log = logging.getLogger(__name__)

_pending: ContextVar[list[Awaitable[Any]] | None] = ContextVar("ailedger_run_sends", default=None)


#: A run whose messages are not all acknowledged after this long says so in the log (and waits on).
SLOW_SECONDS = 10.0

#: A worker stopping for a refused send exits hard if Faust's own stop has not ended it by then.
WORKER_STOP_DEADLINE_SECONDS = 20.0

#: The deadline in force: only a worker process sets one (:func:`arm_stop_deadline`); an app
#: crashed elsewhere (a test, a tool) must not end its whole process.
_stop_deadline: list[float | None] = [None]

#: The exit status of a worker whose stop outlasted the deadline (:func:`arm_stop_deadline`).
EXIT_STOP_DEADLINE = 70


class DeliveryFailed(RuntimeError):
    """A send of a run was not delivered: the run is not acked and the worker stops."""


def track(delivery: Awaitable[Any]) -> None:
    """Note a delivery future in the current run's list (if a run is current)."""
    pending = _pending.get()
    if pending is not None:
        pending.append(delivery)


async def send(channel: Any, **kwargs: Any) -> Awaitable[Any]:
    """``channel.send(**kwargs)``, noted in the current run's deliveries (if a run is current)."""
    delivery = await channel.send(**kwargs)
    track(delivery)
    return delivery


class DeliveredTable(faust.Table):
    """A Faust table whose changelog records are part of the run that wrote them: a record the
    broker refused would leave the table's other replicas (and any new owner) without the write."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        delivery = super().send_changelog(*args, **kwargs)
        track(delivery)
        return delivery


def start_run() -> list[Awaitable[Any]]:
    """A fresh list for the deliveries of the run about to be handed to the body."""
    pending: list[Awaitable[Any]] = []
    _pending.set(pending)
    return pending


async def _settle(pending: list[Awaitable[Any]], what: str) -> list[Any]:
    """Each delivery's result or exception, once all are done (a warning every ``SLOW_SECONDS``)."""
    waiting = [asyncio.ensure_future(d) for d in pending]
    started = time.monotonic()
    while True:
        _, still = await asyncio.wait(waiting, timeout=SLOW_SECONDS)
        if not still:
            break
        log.warning("%d of %d messages of %s not acknowledged after %.0f s; waiting", len(still), len(waiting),
                    what, time.monotonic() - started)
    return [w.exception() or w.result() for w in waiting]


async def wait_delivered(pending: list[Awaitable[Any]], app: Any = None) -> None:
    """Wait until every send in ``pending`` is acknowledged by the broker. If any failed, crash
    ``app`` (the worker) and raise :class:`DeliveryFailed`."""
    if not pending:
        return
    results = await _settle(pending, "a run (the run is not acked)")
    failed = [r for r in results if isinstance(r, BaseException)]
    pending.clear()
    if not failed:
        return
    exc = DeliveryFailed(f"{len(failed)} of {len(results)} messages of a run were not delivered "
                         f"(first: {type(failed[0]).__name__}: {failed[0]}); the run is not acked")
    log.error("%s; stopping the worker, the run is read again on restart", exc)
    if app is not None:
        # Faust's stop waits for every message in progress to be acked (stream_wait_empty); this
        # run never will be, and the stop hung until killed (seen once in the changelog test).
        app.conf.stream_wait_empty = False
        if _stop_deadline[0] is not None:
            exit_if_not_stopped(_stop_deadline[0])
        await app.crash(exc)
    raise exc


def arm_stop_deadline(seconds: float | None = WORKER_STOP_DEADLINE_SECONDS) -> None:
    """Called by the worker process: from now on a refused send ends this process within
    ``seconds`` of the crash (``None``: never by itself)."""
    _stop_deadline[0] = seconds
    log.info("a stop after a refused send is ended after %s s", seconds)


def exit_if_not_stopped(seconds: float) -> threading.Thread:
    """End the process ``seconds`` from now unless it ends by itself before. A worker that
    decided to stop must stop: Faust's stop has more waits without a limit (streams, services,
    the producer's flush), and one that hangs leaves the partitions owned by a worker doing
    nothing. Exiting hard is as safe as ``kill -9``: the failed run is not acked, so its offsets
    are not committed and the partition's next owner reads it again."""
    def deadline() -> None:
        time.sleep(seconds)
        log.critical("the worker did not stop within %.0f s of its crash; exiting now (status %d)",
                     seconds, EXIT_STOP_DEADLINE)
        logging.shutdown()
        os._exit(EXIT_STOP_DEADLINE)

    thread = threading.Thread(target=deadline, name="ailedger-stop-deadline", daemon=True)
    thread.start()
    return thread


async def undelivered(sends: list[tuple[Any, Awaitable[Any]]], what: str) -> list[Any]:
    """Wait for ``(tag, delivery)`` pairs sent outside a run; the tags of those the broker refused
    (logged), for the caller to send again. Nothing stops: these messages are views that can be
    sent again, and the worker's own state is not at stake."""
    if not sends:
        return []
    results = await _settle([d for _, d in sends], what)
    failed = [(tag, r) for (tag, _), r in zip(sends, results) if isinstance(r, BaseException)]
    if failed:
        log.warning("%d of %d messages of %s not delivered (first: %s: %s); sending them again next round",
                    len(failed), len(sends), what, type(failed[0][1]).__name__, failed[0][1])
    return [tag for tag, _ in failed]
