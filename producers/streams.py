"""Pass-through wrappers for streamed responses: every chunk is observed for usage on its way
to the caller; the wrapped object's other attributes and methods stay reachable."""

from __future__ import annotations

from typing import Any, Callable

from producers.adapters import StreamUsage

OnEnd = Callable[[BaseException | None], None] | None


class _Base:
    def __init__(self, inner: Any, usage: StreamUsage, on_end: OnEnd) -> None:
        self._inner = inner
        self._usage = usage
        self._on_end = on_end
        self._ended = False

    def _end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            if self._on_end is not None:
                self._on_end(error)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)


class TrackedStream(_Base):
    """A sync stream (``openai.Stream``, ``anthropic.Stream``, a generator, an iterator)."""

    def __iter__(self) -> "TrackedStream":
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._inner)
        except StopIteration:
            self._end()
            raise
        except BaseException as exc:
            self._end(exc)
            raise
        self._usage.observe(chunk)
        return chunk

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._end()

    def __enter__(self) -> "TrackedStream":
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.close() if exc is None else self._end(exc)

    def __del__(self) -> None:
        try:
            self._end()
        except Exception:  # noqa: BLE001
            pass


class AsyncTrackedStream(_Base):
    """An async stream (``openai.AsyncStream``, an async generator)."""

    def __aiter__(self) -> "AsyncTrackedStream":
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._inner.__anext__()
        except StopAsyncIteration:
            self._end()
            raise
        except BaseException as exc:
            self._end(exc)
            raise
        self._usage.observe(chunk)
        return chunk

    async def aclose(self) -> None:
        try:
            close = getattr(self._inner, "aclose", None) or getattr(self._inner, "close", None)
            if close is not None:
                result = close()
                if hasattr(result, "__await__"):
                    await result
        finally:
            self._end()

    async def __aenter__(self) -> "AsyncTrackedStream":
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            await self.aclose()
        else:
            self._end(exc)

    def __del__(self) -> None:
        try:
            self._end()
        except Exception:  # noqa: BLE001
            pass


def wrap_stream(chunks: Any, usage: StreamUsage, on_end: OnEnd) -> Any:
    """Wrap ``chunks``: async if it has ``__anext__``/``__aiter__``, else sync."""
    if hasattr(chunks, "__anext__") or (hasattr(chunks, "__aiter__") and not hasattr(chunks, "__iter__")):
        if not hasattr(chunks, "__anext__"):
            chunks = chunks.__aiter__()
        return AsyncTrackedStream(chunks, usage, on_end)
    if not hasattr(chunks, "__next__"):
        chunks = iter(chunks)
    return TrackedStream(chunks, usage, on_end)
