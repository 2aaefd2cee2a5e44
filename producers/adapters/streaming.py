"""Usage over a streamed response, whose usage arrives with the last chunk or event.

Feed every chunk to :meth:`StreamUsage.observe`; :meth:`StreamUsage.result` is the usage once the
stream ends. Handles OpenAI Chat Completions chunks (``stream_options={"include_usage": True}``),
OpenAI Responses events (``response.completed``), Anthropic ``message_start``/``message_delta``,
Gemini chunks (running totals) and Ollama chunks (counts on the ``done`` chunk).
"""

from __future__ import annotations

from typing import Any

from producers.adapters import anthropic, gemini, ollama, openai
from producers.adapters._fields import pick, text
from producers.adapters.usage import Usage


class StreamUsage:
    """Accumulates usage and the model name across a stream. Never raises."""

    def __init__(self) -> None:
        self.model: str | None = None
        self._usage: Usage | None = None
        self._anthropic = anthropic.StreamState()
        self.chunks = 0

    def observe(self, chunk: Any) -> None:
        self.chunks += 1
        try:
            self._observe(chunk)
        except Exception:  # noqa: BLE001 - an odd chunk must not break the caller's stream
            pass

    def _observe(self, chunk: Any) -> None:
        if chunk is None or isinstance(chunk, (str, bytes)):
            return
        if self._anthropic.observe(chunk):
            self.model = self._anthropic.model or self.model
            self._usage = self._anthropic.usage() or self._usage
            return
        if gemini.metadata_of(chunk) is not None:
            self._take(gemini.from_response(chunk))
            return
        if ollama.is_ollama(chunk):
            self._take(ollama.from_response(chunk))
            return
        model, usage = openai.from_stream_event(chunk)
        self.model = model or self.model
        if usage is not None:
            self._take(usage)
        elif self.model is None:
            self.model = text(chunk, "model", "model_version", "modelVersion") or text(
                pick(chunk, "response"), "model"
            )

    def _take(self, usage: Usage | None) -> None:
        if usage is None:
            return
        self._usage = usage
        self.model = usage.model or self.model

    def result(self) -> Usage | None:
        """The final usage (with the model seen on any chunk), or None if no chunk had usage."""
        if self._usage is None:
            return None
        if self._usage.model is None and self.model:
            return Usage(**{**self._usage.__dict__, "model": self.model})
        return self._usage
