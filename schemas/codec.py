"""The one codec: orjson bytes on every topic, Decimal money as JSON strings.

A message may carry a single item or a batch envelope ``{"type": "ai.batch.v1", "items": [...]}``.
Faust's cost is per message, so producers pack many events into one message; consumers unpack.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Literal

import msgspec
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.events import AICallEvent
from schemas.upcasting import UnknownSchemaVersion, upcast

BATCH_TYPE = "ai.batch.v1"


class DecodeError(ValueError):
    """The bytes are not a valid message (bad JSON, bad UTF-8, wrong envelope)."""


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, msgspec.Struct):  # schemas.fast_decode.DecodedEvent
        return msgspec.structs.asdict(value)
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
    return items_of(loads(raw))


def items_of(obj: Any) -> list[Any]:
    """The items of a decoded message (see :func:`unpack`)."""
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


class _CurrentBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ai.batch.v1"]
    items: list[AICallEvent]


def parse_batch(raw: bytes | str) -> list[AICallEvent] | None:
    """Fast path: a batch envelope whose items are all valid current events, validated in one
    pass by pydantic-core straight from the bytes (no intermediate dicts; about 5 µs per event
    less than :func:`unpack` plus :func:`parse_event`). ``None`` when anything in it is not: the
    caller then takes the per-item path, which upcasts old versions and gives each bad item its
    own reason."""
    if not isinstance(raw, (bytes, str)):
        return None
    try:
        return _CurrentBatch.model_validate_json(raw).items
    except ValidationError:
        return None


def plain_decimal(value: Decimal) -> str:
    """A Decimal as a JSON string in plain notation ("0.000000225", never "2.25E-7")."""
    text = str(value)
    return format(value, "f") if "E" in text else text


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
