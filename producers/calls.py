"""One tracked model call: timing, outcome, usage from the response, publish once at the end."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from producers.adapters import StreamUsage, extract_usage
from producers.context import current_fields
from producers.streams import wrap_stream

if TYPE_CHECKING:
    from producers.client import Ledger

log = logging.getLogger(__name__)

MAX_ERROR_MESSAGE = 2_000


class TrackedCall:
    """Context manager (sync and async) around one model call.

    ``call.record(response)`` reads usage and the model from the response; ``call.set(**fields)``
    adds fields; ``call.stream(chunks)`` passes a stream through and reads its final usage. An
    exception inside the block is recorded (``success=False``, ``error_type``,
    ``error_message``) and re-raised. The event is published exactly once, on exit.
    """

    def __init__(self, ledger: "Ledger", fields: dict[str, Any]) -> None:
        self._ledger = ledger
        self.fields = fields
        self._started = 0.0
        self._stream: StreamUsage | None = None
        self._published = False

    # -- what the caller uses ------------------------------------------------------------------
    def record(self, response: Any) -> Any:
        """Take usage and the model name from ``response``; returns ``response``."""
        try:
            usage = extract_usage(response, self.fields.get("provider"))
            if usage is not None:
                self.fields.update(usage.as_fields())
        except Exception:  # noqa: BLE001 - never break the caller
            log.debug("could not read usage from %s", type(response).__name__, exc_info=True)
        return response

    def set(self, **fields: Any) -> None:
        """Add or override event fields (tokens, metadata, prompt, response, ...)."""
        self.fields.update(fields)

    def stream(self, chunks: Any) -> Any:
        """Wrap a (sync or async) stream; its final usage is recorded when the block exits.
        Something that cannot be wrapped is returned as it is."""
        try:
            self._stream = StreamUsage()
            return wrap_stream(chunks, self._stream, on_end=None)
        except Exception:  # noqa: BLE001 - never break the caller
            return chunks

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "TrackedCall":
        """Capture the context's fields and the start time (``__enter__`` does this)."""
        self.fields = {**current_fields(), **self.fields}
        self.fields.setdefault("occurred_at", datetime.now(timezone.utc))
        self._started = time.perf_counter()
        return self

    def finish(self, error: BaseException | None = None) -> None:
        """Stamp latency and outcome, and publish. Idempotent; never raises."""
        if self._published:
            return
        self._published = True
        try:
            fields = self.fields
            fields["latency_ms"] = (time.perf_counter() - self._started) * 1000
            if self._stream is not None:
                usage = self._stream.result()
                if usage is not None:
                    fields.update(usage.as_fields())
            if error is not None:
                fields["success"] = False
                fields["error_type"] = type(error).__name__
                fields["error_message"] = str(error)[:MAX_ERROR_MESSAGE]
            fields.setdefault("model", "unknown")
            fields.setdefault("provider", "unknown")
            self._ledger.track(**fields)
        except Exception:  # noqa: BLE001
            log.debug("ailedger: could not publish a tracked call", exc_info=True)

    def finish_after_stream(self, chunks: Any) -> Any:
        """Return ``chunks`` wrapped so that this call is published when the stream ends."""
        try:
            self._stream = StreamUsage()
            return wrap_stream(chunks, self._stream, on_end=self.finish)
        except Exception:  # noqa: BLE001 - never break the caller: publish now, without usage
            self.finish()
            return chunks

    def __enter__(self) -> "TrackedCall":
        return self.start()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        self.finish(exc)
        return False

    async def __aenter__(self) -> "TrackedCall":
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        self.finish(exc)
        return False


def is_stream(value: Any) -> bool:
    """A response that is an iterator of chunks (an SDK Stream, a generator), not a model."""
    return hasattr(value, "__next__") or hasattr(value, "__anext__")

