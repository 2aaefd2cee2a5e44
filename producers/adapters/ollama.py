"""Ollama ``/api/chat`` and ``/api/generate`` responses (dicts or the ``ollama`` package's objects).

``prompt_eval_count`` is the prompt tokens evaluated, ``eval_count`` the tokens generated. A
streamed response carries them on its last chunk (``done: true``).
"""

from __future__ import annotations

from typing import Any

from producers.adapters._fields import count, pick, text
from producers.adapters.usage import Usage


def is_ollama(response: Any) -> bool:
    return pick(response, "prompt_eval_count", "eval_count") is not None


def from_response(response: Any) -> Usage | None:
    if not is_ollama(response):
        return None
    return Usage(
        model=text(response, "model"),
        input_tokens=count(response, "prompt_eval_count"),
        output_tokens=count(response, "eval_count"),
    )
