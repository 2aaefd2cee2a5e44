"""schemas.fast_decode: the pricing stage's msgspec read of a raw batch gives exactly the values
pydantic's read gives, or declines (``None``) and leaves the message to pydantic."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, StringConstraints, TypeAdapter

from schemas.codec import dumps, encode_batch, parse_batch
from schemas.costed_columns import PricedCall, encode_costed
from schemas.events import AICallEvent
from schemas.fast_decode import PROMPT_TYPE_PATTERN, DecodedEvent, decode_batch
from stream_processors.pricing import load_catalog, price_call
from tests.bad_events import corruption, valid_events

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
VALID = valid_events(30, seed=23, now=NOW)


def _values(events: list[DecodedEvent]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(e) for e in events]


def _assert_same_or_declined(items: list[Any]) -> list[DecodedEvent] | None:
    raw = encode_batch(items)
    fast, slow = decode_batch(raw), parse_batch(raw)
    if fast is not None:
        assert slow is not None, "the fast path accepted what pydantic refuses"
        assert _values(fast) == [e.__dict__ for e in slow]
        assert all(e.occurred_at.tzinfo is timezone.utc for e in fast)
    return fast


def test_demo_traffic_takes_the_fast_path():
    events = _assert_same_or_declined(VALID)
    assert events is not None and len(events) == len(VALID)
    assert all(type(e) is DecodedEvent for e in events)


def test_text_in_any_language_takes_the_fast_path():
    item = {**VALID[0], "prompt": "Résumé: 東京 \"quoted\"\n\tend", "error_message": "café",
            "metadata": {"clé": " spaced value "}}
    events = _assert_same_or_declined([item])
    assert events is not None and events[0].prompt == item["prompt"]


def test_the_struct_has_the_models_fields_defaults_and_requirements():
    model = AICallEvent.model_fields
    fields = {f.name: f for f in msgspec.structs.fields(DecodedEvent)}
    assert tuple(fields) == tuple(model)
    for name, info in model.items():
        assert fields[name].required == info.is_required(), name
        if not info.is_required():
            ours = fields[name].default_factory() if fields[name].default_factory is not msgspec.NODEFAULT \
                else fields[name].default
            theirs = info.default_factory() if info.default_factory is not None else info.default
            assert ours == theirs and type(ours) is type(theirs), name


_BOUNDS = ("minLength", "maxLength", "minimum", "maximum", "pattern", "type")


def _bounds(schema: dict[str, Any], defs: dict[str, Any]) -> set:
    """Every bound in a property's JSON schema, through ``anyOf`` and map values."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    found = {(key, str(schema[key])) for key in _BOUNDS if key in schema}
    for option in schema.get("anyOf", []):
        found |= _bounds(option, defs)
    if isinstance(schema.get("additionalProperties"), dict):
        found |= {("values", *b) for b in _bounds(schema["additionalProperties"], defs)}
    return found


def test_the_struct_has_the_models_bounds():
    ours = msgspec.json.schema(DecodedEvent)
    ours_defs = ours["$defs"]
    ours = ours_defs["DecodedEvent"]["properties"]
    theirs = AICallEvent.model_json_schema()
    for name, prop in theirs["properties"].items():
        if name in ("occurred_at", "type"):  # text read by fromisoformat; a constant
            continue
        # every bound but the prompt type's pattern, which decode_batch checks once per distinct
        # value (the declines below; the next test compares the patterns)
        assert _bounds(ours[name], ours_defs) == \
            _bounds(prop, theirs.get("$defs", {})) - {("pattern", AICallEvent.model_fields["prompt_type"].metadata[-1]
                                                       .pattern)}, name


def test_the_prompt_types_pattern_accepts_only_what_the_models_accepts():
    ours = re.compile(PROMPT_TYPE_PATTERN)
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    accepted = [c for c in chars if ours.search(c)]
    assert len(accepted) == 62 + 5  # letters, digits and _.:/-
    assert ours.search("chat") and not ours.search("chat\n")  # the model's "$" is the end in Rust
    theirs = AICallEvent.model_fields["prompt_type"].metadata[-1].pattern
    adapter = TypeAdapter(list[Annotated[str, StringConstraints(pattern=theirs)]])
    assert adapter.validate_python(accepted) == accepted


@pytest.mark.parametrize("field, value", [
    ("account_id", " acme"), ("model", "gpt-4o "), ("user_id", "\tu1"), ("operation", "x\n"),
    ("metadata", {" key": 1}), ("metadata", {"k": 1, "k ": 2}), ("extra_usage", {"requests ": 1}),
    ("prompt", "\u2003Hello"), ("response", "fin\u00a0"),
    ("occurred_at", "2026-11-20T12:00:00+02:00"), ("occurred_at", "2026-11-20T10:00:00"),
    ("occurred_at", "2026-11-20t10:00:00z"), ("occurred_at", "2099-01-01T00:00:00Z"),
    ("prompt_type", "ünïcode"), ("prompt_type", "a b"), ("prompt_type", "chat?"), ("source", "\u2003svc"),
    ("event_id", "{3fd42359-92ed-4f45-9a1a-fe878b33e968}"),
    ("input_tokens", "12"), ("input_tokens", 12.0), ("success", 1), ("latency_ms", "5"),
    ("error_type", "timeout"), ("metadata", {"k": "x" * 20_000}), ("type", "ai.call.v0"), ("unknown", 1),
])
def test_what_it_cannot_vouch_for_it_declines(field, value):
    item = {**VALID[0], field: value}
    assert decode_batch(encode_batch([VALID[1], item])) is None
    _assert_same_or_declined([VALID[1], item])


def test_str_strip_strips_every_character_pydantic_strips():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    adapter = TypeAdapter(list[str], config=ConfigDict(str_strip_whitespace=True))
    stripped = adapter.validate_python([f"{c}x{c}" for c in chars])
    pydantic_strips = {c for c, s in zip(chars, stripped) if s != f"{c}x{c}"}
    assert {" ", "\t", "\n", "\u3000"} <= pydantic_strips <= {c for c in chars if c.isspace()}


def test_it_declines_what_is_not_a_batch_of_events():
    for raw in (b"", b"{", b"[]", b'{"type": "ai.batch.v1"}', encode_batch([]).replace(b"ai.batch.v1", b"x"),
                "text", b"\xff\xfe"):
        assert decode_batch(raw) is None
    assert decode_batch(encode_batch([])) == []


_JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                     max_leaves=6)
_TIMES = st.builds(
    lambda d, digits, zone, sep: d.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (
        "." + f"{d.microsecond:06d}123"[:digits] if digits else "") + zone,
    st.datetimes(min_value=datetime(2014, 12, 30), max_value=datetime(2026, 11, 23)),
    st.integers(min_value=0, max_value=9), st.sampled_from(["Z", "+00:00", "-00:00", "+01:00", "", "z"]),
    st.sampled_from(["T", " ", "t"]))
_FIELDS = [name for name in AICallEvent.model_fields if name != "type"]
_edit = st.one_of(
    corruption,
    st.tuples(st.sampled_from(_FIELDS), _JSON),
    st.tuples(st.just("occurred_at"), _TIMES),
    st.tuples(st.sampled_from(_FIELDS), st.text(st.characters(codec="utf-8"), max_size=6)),
    st.tuples(st.sampled_from(["metadata", "extra_usage"]),
              st.dictionaries(st.text(max_size=4), st.integers(min_value=-1, max_value=2**64 - 1), max_size=2)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=len(VALID) - 1), _edit), max_size=3))
def test_generated_edits_give_pydantics_values_or_a_decline(edits):
    items = [dict(item) for item in VALID[:5]]
    for index, (field, value) in edits:
        items[index % 5][field] = value
    _assert_same_or_declined(items)


def test_a_struct_is_written_as_its_model_is():
    structs = decode_batch(encode_batch(VALID))
    models = parse_batch(encode_batch(VALID))
    catalog = load_catalog(None)
    assert [dumps(s) for s in structs] == [dumps(m) for m in models]
    assert [AICallEvent.model_validate(msgspec.structs.asdict(s)) for s in structs] == models
    costs = [price_call(s, catalog) for s in structs]
    assert costs == [price_call(m, catalog) for m in models]
    assert encode_costed([PricedCall(s, c, 1, NOW) for s, c in zip(structs, costs)]) == \
        encode_costed([PricedCall(m, c, 1, NOW) for m, c in zip(models, costs)])
    mixed = [PricedCall(s if i % 2 else m, c, 1, NOW) for i, (s, m, c) in enumerate(zip(structs, models, costs))]
    assert encode_costed(mixed) == encode_costed([PricedCall(m, c, 1, NOW) for m, c in zip(models, costs)])
