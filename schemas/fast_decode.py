"""The pricing stage's fast read of a raw message: a batch of current events decoded by msgspec.

:class:`~schemas.events.AICallEvent` stays the event's schema. :func:`decode_batch` is a second,
faster reader of the one common form, a batch envelope of ``ai.call.v1`` events that pydantic
would accept as they are. It gives :class:`DecodedEvent` structs, with the model's fields in
its order, holding the values pydantic would give, or ``None`` whenever it cannot vouch for
that. The caller then takes pydantic's path, whose answer (and error messages) stay the rule.

Why: validating into pydantic models took a fifth of the worker's main thread (py-spy) and
~49k instructions per event; this reader takes ~23k. msgspec checks types and bounds in C and
builds slotted structs without a ``__dict__`` (BENCHMARKS.md, sessions 23-24).

It declines, rather than risk a different value, when:

* a text field or a key of ``extra_usage`` or ``metadata`` starts or ends with whitespace
  (pydantic strips them; ``str.strip`` strips all that pydantic's does, and more: a test checks
  every character). Checked only when the message is not ASCII, holds an escape or has a quote
  next to a space: else no string can have whitespace at either end;
* ``prompt_type`` is not made of ASCII letters, digits and ``_.:/-`` (checked once per distinct
  prompt type of the message, not by msgspec for every event: a Python ``re`` search per
  value cost ~0.65 µs per event, a third of the decode);
* anything msgspec refuses (it is stricter: no ``"5"`` or ``1.0`` for an int, no ``1`` for a
  bool, an old ``type``, an unknown field);
* ``occurred_at`` is not ISO 8601 text that ``datetime.fromisoformat`` reads with a UTC offset of
  zero (pydantic's path reads the same text with the same function), or is out of bounds;
* ``error_type`` is set on a successful call, or the metadata is too large.

``tests/schemas/test_fast_decode.py`` holds the fields, defaults and bounds to the model's and
compares both readers on generated and hand-written messages.
"""

from __future__ import annotations

import operator
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
import orjson
from msgspec import Meta, Struct

from schemas.events import (
    EARLIEST_EVENT_TIME,
    EVENT_TYPE,
    MAX_LATENCY_MS,
    MAX_METADATA_BYTES,
    MAX_TEXT_CHARS,
    MAX_TOKENS_PER_BUCKET,
    AICallEvent,
    _latest,
    _latest_acceptable,
)

_Tokens = Annotated[int, Meta(ge=0, le=MAX_TOKENS_PER_BUCKET)]
_Id = Annotated[str, Meta(min_length=1, max_length=200)]
_Short = Annotated[str, Meta(max_length=200)]
_Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]


#: The model's pattern for ``prompt_type`` with ASCII ``\w``: Python's ``re`` and pydantic's
#: Rust regex disagree on what a word character is beyond ASCII (``²``, combining accents).
PROMPT_TYPE_PATTERN = r"^[A-Za-z0-9_.:/\-]+\Z"  # \Z: "$" also matches before a final newline


class DecodedEvent(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """An ``ai.call.v1`` event as :func:`decode_batch` reads it: :class:`AICallEvent`'s fields,
    in its order, with its defaults and bounds (``occurred_at`` a UTC ``datetime``).
    ``gc=False``: a struct of JSON values holds no cycle, so the collector need not track it."""

    type: Literal["ai.call.v1"] = EVENT_TYPE
    event_id: UUID
    #: Decoded as text, and replaced by its UTC ``datetime`` before :func:`decode_batch` hands the
    #: event out (msgspec rounds a seventh digit of a second where pydantic's path truncates).
    occurred_at: Any
    account_id: _Id
    user_id: _Short | None = None
    #: Also matches :data:`PROMPT_TYPE_PATTERN`: :func:`decode_batch` checks each distinct value once.
    prompt_type: Annotated[str, Meta(min_length=1, max_length=200)] = "default"
    operation: _Short = ""
    provider: _Id
    model: _Id
    input_tokens: _Tokens = 0
    cache_read_tokens: _Tokens = 0
    cache_write_tokens: _Tokens = 0
    output_tokens: _Tokens = 0
    reasoning_tokens: _Tokens = 0
    extra_usage: dict[str, _Tokens] = {}
    latency_ms: Annotated[float, Meta(ge=0, le=MAX_LATENCY_MS)] = 0.0
    success: bool = True
    error_type: _Short | None = None
    error_message: Annotated[str, Meta(max_length=10_000)] | None = None
    cached: bool = False
    source: _Short = ""
    task_id: _Short | None = None
    trace_id: Annotated[str, Meta(max_length=64)] | None = None
    span_id: Annotated[str, Meta(max_length=32)] | None = None
    metadata: dict[str, Any] = {}
    prompt: _Text | None = None
    response: _Text | None = None


if DecodedEvent.__struct_fields__ != tuple(AICallEvent.model_fields):  # pragma: no cover - a schema edit
    raise ImportError("DecodedEvent's fields differ from AICallEvent's: change both")


class _Batch(Struct):
    type: Literal["ai.batch.v1"]
    items: list[DecodedEvent]


_decoder = msgspec.json.Decoder(_Batch)
#: The text fields: pydantic strips whitespace from each (and from the dicts' keys).
_TEXTS = operator.attrgetter(*(name for name, info in AICallEvent.model_fields.items()
                               if info.annotation in (str, str | None)))
_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat
_set = msgspec.structs.force_setattr
_strip, _is_not = str.strip, operator.is_not
_prompt_type_ok = re.compile(PROMPT_TYPE_PATTERN).search


def _strippable(texts) -> bool:
    """Whether whitespace would be stripped from any of ``texts`` (no strings are made: ``strip``
    gives back the string itself when it has nothing to strip)."""
    texts = tuple(filter(None, texts))
    return any(map(_is_not, map(_strip, texts), texts))


def decode_batch(raw: bytes) -> list[DecodedEvent] | None:
    """The events of a batch envelope of current, valid events, or ``None`` (see the module)."""
    if type(raw) is not bytes:
        return None
    try:
        events = _decoder.decode(raw).items
    except msgspec.DecodeError:  # not JSON, or not this form (ValidationError is a DecodeError)
        return None
    # In ASCII text without escapes the only whitespace a string can hold is a space, and a
    # string that starts or ends with one puts it next to a quote. Without that, no string
    # (key or value) has anything to strip, and none is looked at. (The SDK's messages.)
    nothing_to_strip = raw.isascii() and b"\\" not in raw and b'" ' not in raw and b' "' not in raw
    latest = _latest[0]
    for event in events:
        try:
            when = _fromisoformat(event.occurred_at)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is not _UTC or when < EARLIEST_EVENT_TIME or (when > latest and when > _latest_acceptable()):
            return None
        if event.error_type is not None and event.success:
            return None
        if not nothing_to_strip and (_strippable(_TEXTS(event)) or _strippable(event.extra_usage)
                                  or _strippable(event.metadata)):
            return None
        _set(event, "occurred_at", when)  # frozen for its readers; set once, here
    if not all(map(_prompt_type_ok, {event.prompt_type for event in events})):
        return None
    # each metadata's size is at most that of all of them: one encoding for the whole batch
    if len(orjson.dumps([event.metadata for event in events], default=str)) > MAX_METADATA_BYTES and any(
            len(orjson.dumps(event.metadata, default=str)) > MAX_METADATA_BYTES for event in events):
        return None
    return events
