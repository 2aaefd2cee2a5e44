"""The background publisher: a bounded in-memory queue drained by one thread.

Callers only append to a deque (:meth:`Pipeline.submit`), so publishing never blocks them. The
thread validates, groups per account, packs batches and sends them, holding back (in memory)
while ``max_in_flight_events`` are unacknowledged. It routes to the durable
:class:`~producers.spool.Spool` instead whenever the broker is unreachable or slow to
acknowledge, or the spool still holds older events (so order is kept); callers spool directly
when the in-memory bound ``buffer_events`` is reached. The spool is re-sent in order once the
broker answers again. Every event is, at any moment, in exactly one place: the queue, an
account buffer, the producer, or the spool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from producers.config import LedgerSettings
from producers.flights import Flight, SpoolFlight
from producers.gate import Gate
from producers.health import BrokerHealth
from producers.sender import KafkaSender, PublishError, is_permanent
from producers.spool import Spool
from producers.stats import Stats
from producers.wire import pack, pack_account
from schemas.events import AICallEvent

log = logging.getLogger(__name__)

#: Items validated per slice of the worker's loop.
DRAIN_SLICE = 100


class Pipeline:
    """Owns the queue, the worker thread, the in-flight sends and the spool's re-sending."""

    def __init__(self, settings: LedgerSettings, sender: KafkaSender, spool: Spool) -> None:
        self.settings = settings
        self.sender = sender
        self.spool = spool
        self.stats = Stats()
        self._queue: deque[Any] = deque()
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._buffered_since: dict[str, float] = {}
        self._buffered = 0  # events in self._buffers
        self._flights: list[Flight] = []
        self._in_flight_events = 0
        self._spool_flight: SpoolFlight | None = None
        self._gate = Gate(spool, self.stats)
        self._health = BrokerHealth(settings.retry_interval_s, max(settings.retry_interval_s, 10.0),
                                    str(spool.directory))
        self._linger = settings.linger_ms / 1000
        self._flush_now = False
        self._stop = threading.Event()
        self._deadline = float("inf")
        self._wake = threading.Event()
        # Held by the worker while it moves events between stages, so that `idle` never sees an
        # event in none of them.
        self._state = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="ailedger-publisher", daemon=True)
        self._thread.start()

    # -- caller side ---------------------------------------------------------------------------
    def submit(self, item: dict[str, Any] | AICallEvent) -> None:
        """Queue raw event fields or a validated event. O(1); overflow goes to the spool."""
        self.stats.tracked += 1
        if len(self._queue) + self._buffered >= self.settings.buffer_events or self._stop.is_set():
            self._overflow(item)
            return
        self._queue.append(item)

    def _overflow(self, item: dict[str, Any] | AICallEvent) -> None:
        event = self._gate.validate(item)
        if event is not None:
            self._to_spool([event])

    @property
    def idle(self) -> bool:
        """Nothing queued, buffered, in flight or spooled."""
        if not self._state.acquire(timeout=0.5):
            return False
        try:
            return not (self._queue or self._buffers or self._flights or self._spool_flight
                        or self.spool.pending)
        finally:
            self._state.release()

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is acknowledged by the broker."""
        deadline = time.monotonic() + timeout
        self._flush_now = True
        self._wake.set()
        while not self.idle:
            if time.monotonic() >= deadline or not self._thread.is_alive():
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float) -> None:
        """Deliver what the broker will take within ``timeout``; spool the rest; stop."""
        self._deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout + self.settings.connect_timeout_s + 5)
        self.sender.close(timeout=0)  # aborts unsent records: their futures fail ...
        self._collect_flights(final=True)  # ... and their events go to the spool
        self._settle_spool_flight_at_close()
        self.spool.close()

    def _settle_spool_flight_at_close(self) -> None:
        """Keep a half-acknowledged chunk from being re-sent whole: re-append what is missing."""
        flight, self._spool_flight = self._spool_flight, None
        if flight is None:
            return
        outcome = flight.settle(time.monotonic(), float("inf"))
        self.stats.acked += outcome.acked
        if not any(flight.done):
            return  # nothing of it arrived: it stays in the spool as it is
        missing = [e for m, done in zip(flight.messages, flight.done) if not done for e in m.events]
        self._to_spool(missing)
        self.spool.ack(flight.chunk)

    # -- worker --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                stopping = self._stop.is_set()
                with self._state:
                    self._drain_queue()
                    self._collect_flights()
                    self._flush_buffers(force=stopping or self._flush_now)
                    self._pump_spool()
                    if stopping and self._finished():
                        return
                if self._queue:
                    time.sleep(0)  # hand the GIL to the callers between slices of work
                else:
                    self._wake.wait(0.002 if (self._flights or self._spool_flight) else 0.01)
                    self._wake.clear()
            except Exception:  # noqa: BLE001 - the worker must survive any bug to keep spooling
                self.stats.errors += 1
                log.exception("ailedger publisher loop failed; continuing")
                time.sleep(0.05)

    def _finished(self) -> bool:
        if self._queue or self._buffers:
            return False
        if time.monotonic() >= self._deadline:
            return True
        busy = self._flights or self._spool_flight or (self.spool.pending and not self._health.down)
        return not busy

    def _drain_queue(self) -> None:
        """Validate and route up to one batch worth of queued items (a short slice of work, so
        the callers' threads get the GIL back quickly)."""
        events = []
        queue = self._queue
        for _ in range(min(len(queue), DRAIN_SLICE)):
            event = self._gate.validate(queue.popleft())
            if event is not None:
                events.append(event)
        if not events:
            return
        if self._must_spool():
            self._to_spool(self._take_buffers() + events)
            return
        now = time.monotonic()
        for event in events:
            account = str(event["account_id"])
            buffer = self._buffers.get(account)
            if buffer is None:
                buffer = self._buffers[account] = []
                self._buffered_since[account] = now
            buffer.append(event)
        self._buffered += len(events)

    def _take_buffers(self) -> list[dict[str, Any]]:
        events = [e for buffer in self._buffers.values() for e in buffer]
        self._buffers.clear()
        self._buffered_since.clear()
        self._buffered = 0
        return events

    def _must_spool(self) -> bool:
        return self._health.down or self.spool.pending > 0

    def _to_spool(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        try:
            self.stats.spooled += self.spool.append(events)
        except Exception:  # noqa: BLE001 - disk full, permissions: count, log, never raise
            self.stats.dropped += len(events)
            log.exception("ailedger: could not spool %d events; they are lost", len(events))

    def _flush_buffers(self, force: bool) -> None:
        if not self._buffers:
            self._flush_now = False
            return
        if self._must_spool():
            self._to_spool(self._take_buffers())
            return
        now = time.monotonic()
        for account in list(self._buffers):
            if self._in_flight_events >= self.settings.max_in_flight_events:
                break  # back-pressure: keep buffering in memory (bounded by buffer_events)
            buffer = self._buffers[account]
            if not (force or len(buffer) >= self.settings.batch_events
                    or now - self._buffered_since[account] >= self._linger):
                continue
            full = len(buffer) - len(buffer) % self.settings.batch_events
            take = len(buffer) if (force or full == 0) else full
            ready, rest = buffer[:take], buffer[take:]
            if rest:
                self._buffers[account] = rest
            else:
                del self._buffers[account], self._buffered_since[account]
            self._buffered -= len(ready)
            self._send_direct(account, ready)
        self._flush_now = False

    def _send_direct(self, account: str, events: list[dict[str, Any]]) -> None:
        messages = pack_account(account, events, self.settings.batch_events, self.settings.max_message_bytes)
        for index, message in enumerate(messages):
            if self._health.down:
                self._to_spool([e for m in messages[index:] for e in m.events])
                return
            try:
                future = self.sender.send(message)
            except PublishError as exc:
                self._health.failed(str(exc))
                self._to_spool([e for m in messages[index:] for e in m.events])
                return
            self._flights.append(Flight(message, future, time.monotonic()))
            self._in_flight_events += message.count

    def _collect_flights(self, final: bool = False) -> None:
        if not self._flights:
            return
        now = time.monotonic()
        pending: list[Flight] = []
        for flight in self._flights:
            if not flight.future.is_done:
                pending.append(flight)
                if now - flight.sent_at > self.settings.ack_timeout_s and not final:
                    self._health.failed(f"no acknowledgement within {self.settings.ack_timeout_s}s")
                continue
            self._in_flight_events -= flight.message.count
            if flight.future.succeeded():
                self.stats.acked += flight.message.count
                self._health.ok()
            else:
                self._failed(flight.message.events, flight.future.exception)
        if final:
            for flight in pending:  # the producer is closed: these will never be acknowledged
                self._in_flight_events -= flight.message.count
                self._to_spool(flight.message.events)
            pending = []
        self._flights = pending

    def _failed(self, events: list[dict[str, Any]], error: BaseException | None) -> None:
        if is_permanent(error):
            for event in events:
                self._gate.reject(event, f"broker refused the message: {error!r}")
            return
        self.stats.send_failures += 1
        self._health.failed(repr(error))
        self._to_spool(events)

    def _pump_spool(self) -> None:
        """Re-send the spool, one chunk at a time, acknowledging it only when all of it is in."""
        flight = self._spool_flight
        if flight is None:
            if not self.spool.pending or self._health.down or self._flights:
                return
            chunk = self.spool.read(self.settings.max_in_flight_events)
            if chunk is None:
                return
            messages = pack(chunk.events, self.settings.batch_events, self.settings.max_message_bytes)
            flight = self._spool_flight = SpoolFlight(chunk, messages)
        if flight.unsent and not self._health.down:
            try:
                flight.send_unsent(self.sender.send, time.monotonic())
            except PublishError as exc:
                self._health.failed(str(exc))
        outcome = flight.settle(time.monotonic(), self.settings.ack_timeout_s)
        if outcome.stalled:
            self._health.failed(f"spool re-send not acknowledged within {self.settings.ack_timeout_s}s")
        if outcome.acked:
            self.stats.acked += outcome.acked
            self._health.ok()
        for index, error in outcome.failed:
            if is_permanent(error):
                flight.give_up(index)
                for event in flight.messages[index].events:
                    self._gate.reject(event, f"broker refused the message: {error!r}")
            else:
                self.stats.send_failures += 1
                self._health.failed(repr(error))
        if flight.complete:
            self.spool.ack(flight.chunk)
            self._spool_flight = None
