"""Upcasters: turn older event shapes into the current ``ai.call.v1`` before validation.

``ai.call.v0`` is the shape of the usage logs in the design documents (``prompt_tokens``,
``completion_tokens``, ``response_time_ms``, ``model_name``, ``section``, ``created_at``), so
historic logs can be imported through the same path as live events.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import orjson

from schemas.events import EVENT_TYPE

#: Namespace for deterministic event ids of imported legacy rows (same row -> same id).
LEGACY_NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-4e59-9a57-1c0e6a4d2b10")


class UnknownSchemaVersion(ValueError):
    """The event names a type this build does not know."""


def _is_uuid(value: Any) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _v0_to_v1(old: dict[str, Any]) -> dict[str, Any]:
    """Design-document usage log row -> ai.call.v1."""
    new: dict[str, Any] = {"type": EVENT_TYPE}
    event_id = old.get("event_id") or old.get("id")
    if not _is_uuid(event_id):  # absent, or a legacy table's row number: derive it from the whole row
        fingerprint = orjson.dumps(old, option=orjson.OPT_SORT_KEYS, default=str)
        event_id = str(uuid.uuid5(LEGACY_NAMESPACE, fingerprint.decode()))
    new["event_id"] = event_id
    new["occurred_at"] = old.get("occurred_at") or old.get("created_at")
    new["account_id"] = old.get("account_id") or old.get("account") or old.get("user_id") or old.get("user")
    user = old.get("user_id") or old.get("user")
    new["user_id"] = None if user is None else str(user)
    new["prompt_type"] = old.get("prompt_type") or old.get("section") or old.get("endpoint") or "default"
    new["operation"] = old.get("operation") or old.get("operation_type") or old.get("section") or ""
    new["provider"] = old.get("provider") or "unknown"
    new["model"] = old.get("model") or old.get("model_name") or old.get("model_used")
    new["input_tokens"] = int(old.get("prompt_tokens") or old.get("tokens_input") or 0)
    new["output_tokens"] = int(
        old.get("completion_tokens") or old.get("response_tokens") or old.get("tokens_output") or 0
    )
    latency = old.get("response_time_ms") or old.get("duration_ms") or old.get("latency_ms") or 0
    new["latency_ms"] = float(latency)
    error = old.get("error")
    success = old.get("success")
    new["success"] = bool(success) if success is not None else not bool(error)
    if not new["success"]:
        new["error_type"] = old.get("error_type") or "error"
    new["error_message"] = old.get("error_message")
    new["cached"] = bool(old.get("cached") or False)
    new["source"] = old.get("source") or ""
    new["metadata"] = old.get("metadata") or {}
    for key in ("task_id", "prompt", "response"):
        if old.get(key) is not None:
            new[key] = old[key]
    return new


#: type -> function producing the next version's dict.
UPCASTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ai.call.v0": _v0_to_v1,
}


def upcast(obj: dict[str, Any]) -> dict[str, Any]:
    """Bring ``obj`` to the current event type. An object without ``type`` is taken as current."""
    kind = obj.get("type", EVENT_TYPE)
    seen = 0
    while kind != EVENT_TYPE:
        step = UPCASTERS.get(kind)
        if step is None:
            raise UnknownSchemaVersion(f"unknown event type {kind!r}; this build reads {EVENT_TYPE} and older")
        obj = step(obj)
        kind = obj.get("type", EVENT_TYPE)
        seen += 1
        if seen > 16:  # pragma: no cover - guards a cyclic registry
            raise UnknownSchemaVersion(f"upcaster chain for {kind!r} does not terminate")
    return obj
