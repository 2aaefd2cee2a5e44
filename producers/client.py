"""The SDK clients: :class:`Ledger` (sync) and :class:`AsyncLedger` (asyncio).

Two lines to adopt::

    ledger = Ledger.from_env()

    @ledger.tracked(prompt_type="summary", provider="openai")
    def summarise(text): return client.chat.completions.create(...)

Nothing here raises into the service: invalid fields are logged, counted and dead-lettered to
the spool's ``rejects.jsonl``; publishing only appends to an in-memory queue.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import logging
import os
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from producers.calls import TrackedCall, is_stream
from producers.config import LedgerSettings
from producers.context import current_fields, ledger_context
from producers.pipeline import Pipeline
from producers.sender import KafkaSender
from producers.spool import Spool
from schemas.events import AICallEvent

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class Ledger:
    """Tracks model calls and publishes them to the raw topic in the background."""

    def __init__(self, settings: LedgerSettings | None = None, *, sender: KafkaSender | None = None) -> None:
        self.settings = settings if settings is not None else LedgerSettings()
        self._defaults = {
            k: v for k, v in (("source", self.settings.source), ("account_id", self.settings.account_id)) if v
        }
        self._start(sender)
        self._closed = False
        atexit.register(self._close_at_exit)
        _after_fork = weakref.WeakMethod(self._restart_in_child)
        os.register_at_fork(after_in_child=lambda: (_after_fork() or _noop)())

    def _start(self, sender: KafkaSender | None = None) -> None:
        self.spool = Spool(self.settings.resolved_spool_dir, self.settings.spool_segment_bytes,
                           self.settings.spool_fsync)
        self._pipeline = Pipeline(self.settings, sender or KafkaSender(self.settings), self.spool)

    def _restart_in_child(self) -> None:
        """After ``fork()`` the child has no publisher thread and a producer it cannot use: give it
        its own (and its own spool directory; the parent keeps publishing what it had queued)."""
        if self._closed:
            return
        # Keep the parent's objects alive: collecting them would try to close a producer whose
        # I/O thread does not exist here.
        self._inherited = (self._pipeline, self.spool)
        try:
            self._start()
        except Exception:  # noqa: BLE001
            log.warning("ailedger: could not restart the publisher after fork", exc_info=True)

    @classmethod
    def from_env(cls, **overrides: Any) -> "Ledger":
        """A client configured from ``AILEDGER_*`` environment variables (``overrides`` win)."""
        return cls(LedgerSettings(**overrides))

    # -- tracking ------------------------------------------------------------------------------
    def track(self, **fields: Any) -> str | None:
        """Publish one call from its fields (see ``ai.call.v1``). Context fields fill the gaps;
        ``event_id`` and ``occurred_at`` default to a new UUID4 and now. Returns the event id,
        or None if even that failed. Never raises; never blocks."""
        try:
            record = {**self._defaults, **current_fields(), **fields}
            event_id = record.get("event_id") or uuid.uuid4()
            record["event_id"] = event_id
            if record.get("occurred_at") is None:
                record["occurred_at"] = datetime.now(timezone.utc)
            self._pipeline.submit(record)
            return str(event_id)
        except Exception:  # noqa: BLE001 - tracking never breaks the caller
            self._pipeline.stats.errors += 1
            log.warning("ailedger: track() failed", exc_info=True)
            return None

    def track_event(self, event: AICallEvent) -> str | None:
        """Publish an already built event as it is. Never raises; never blocks."""
        try:
            self._pipeline.submit(event)
            return str(event.event_id)
        except Exception:  # noqa: BLE001
            self._pipeline.stats.errors += 1
            log.warning("ailedger: track_event() failed", exc_info=True)
            return None

    @staticmethod
    def context(**fields: Any) -> Any:
        """``with ledger.context(account_id=..., prompt_type=...):`` fields for calls inside."""
        return ledger_context(**fields)

    def call(self, **fields: Any) -> TrackedCall:
        """``with ledger.call(prompt_type=..., provider=...) as call: call.record(resp)``
        (or ``async with``): times the block, records its outcome and publishes on exit."""
        return TrackedCall(self, dict(fields))

    def tracked(self, func: F | None = None, **fields: Any) -> Any:
        """Decorator: track every call of a function (sync or async) returning a model response.

        The return value's usage is recorded; a returned stream is passed through and published
        when it ends. Usable as ``@ledger.tracked`` or ``@ledger.tracked(prompt_type=...)``.
        """

        def decorate(fn: F) -> F:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    call = self.call(**fields).start()
                    try:
                        result = await fn(*args, **kwargs)
                    except BaseException as exc:
                        call.finish(exc)
                        raise
                    return _finish_with(call, result)

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                call = self.call(**fields).start()
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    call.finish(exc)
                    raise
                return _finish_with(call, result)

            return wrapper  # type: ignore[return-value]

        return decorate(func) if func is not None else decorate

    # -- lifecycle -----------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counters (tracked, acked, spooled, rejected, dropped, ...) and current backlog."""
        counts: dict[str, Any] = self._pipeline.stats.as_dict()
        counts["spool_pending"] = self.spool.pending
        counts["spool_dir"] = str(self.spool.directory)
        return counts

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything tracked so far is acknowledged by the broker (spool included).
        True if it was within ``timeout`` seconds."""
        if self._closed:
            return self._pipeline.idle
        return self._pipeline.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Deliver what the broker takes within ``timeout`` (default ``close_timeout_s``) and keep
        the rest in the spool for the next start. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._close_at_exit)
        try:
            self._pipeline.close(self.settings.close_timeout_s if timeout is None else timeout)
        except Exception:  # noqa: BLE001
            log.warning("ailedger: close() failed", exc_info=True)

    def _close_at_exit(self) -> None:
        self.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _noop() -> None:
    pass


def _finish_with(call: TrackedCall, result: Any) -> Any:
    if is_stream(result):
        return call.finish_after_stream(result)
    call.record(result)
    call.finish()
    return result


class AsyncLedger(Ledger):
    """The asyncio client: same tracking API (``track`` is non-blocking, ``call`` works with
    ``async with``, ``tracked`` wraps coroutines); flushing and closing are awaitable."""

    async def aflush(self, timeout: float = 10.0) -> bool:
        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        await asyncio.to_thread(self.close, timeout)

    async def __aenter__(self) -> "AsyncLedger":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
