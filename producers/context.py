"""Event fields carried by context variables: set once per request, task or job.

``with ledger_context(account_id="acme", prompt_type="summary"): ...`` makes every event
tracked inside the block (in this thread or asyncio task, and in tasks it starts) carry those
fields unless the call names them explicitly. Blocks nest; inner values win.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

_FIELDS: ContextVar[dict[str, Any]] = ContextVar("ailedger_fields", default={})


def current_fields() -> dict[str, Any]:
    """The fields set by the enclosing :func:`ledger_context` blocks (a read-only view)."""
    return _FIELDS.get()


@contextmanager
def ledger_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Set event fields (``account_id``, ``user_id``, ``prompt_type``, ``task_id``,
    ``operation``, ``metadata``, ...) for everything tracked inside the block."""
    merged = {**_FIELDS.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _FIELDS.set(merged)
    try:
        yield merged
    finally:
        _FIELDS.reset(token)
