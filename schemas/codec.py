"""The one codec: orjson bytes on every topic, Decimal money as JSON strings.

A message may carry a single item or a batch envelope ``{"type": "ai.batch.v1", "items": [...]}``.
Faust's cost is per message, so producers pack many events into one message; consumers unpack.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

import orjson
from pydantic import BaseModel, ValidationError

from schemas.events import AICallEvent
from schemas.upcasting import UnknownSchemaVersion, upcast

BATCH_TYPE = "ai.batch.v1"


class DecodeError(ValueError):
    """The bytes are not a valid message (bad JSON, bad UTF-8, wrong envelope)."""


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")  # plain notation: "0.000000000123", never "1.23E-10"
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    """Encode any model, dict or list as JSON bytes (Decimal -> string, datetime -> RFC 3339)."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump()
    return orjson.dumps(obj, default=_default, option=orjson.OPT_UTC_Z)


def loads(raw: bytes | str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not valid JSON (or not UTF-8): {exc}") from exc


def encode_batch(items: Iterable[Any]) -> bytes:
    """One message carrying many items."""
    return dumps({"type": BATCH_TYPE, "items": list(items)})


def unpack(raw: bytes | str) -> list[Any]:
    """The items of a message: a batch envelope's items, a JSON list, or the single object."""
    obj = loads(raw)
    if isinstance(obj, dict):
        if obj.get("type") == BATCH_TYPE:
            items = obj.get("items")
            if not isinstance(items, list):
                raise DecodeError("batch envelope has no 'items' list")
            return items
        return [obj]
    if isinstance(obj, list):
        return obj
    raise DecodeError(f"expected a JSON object, a list or a batch envelope, got {type(obj).__name__}")


def parse_event(obj: Any) -> AICallEvent:
    """Upcast and validate one decoded event. Raises ``ValueError`` with a readable reason."""
    if not isinstance(obj, dict):
        raise DecodeError(f"an event must be a JSON object, got {type(obj).__name__}")
    try:
        return AICallEvent.model_validate(upcast(obj))
    except UnknownSchemaVersion:
        raise
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """'field: message; field: message' - names every offending field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def event_to_dict(event: AICallEvent) -> dict[str, Any]:
    """JSON-ready dict of an event, without None/empty optional fields to keep messages small."""
    return event.model_dump(exclude_none=True)
