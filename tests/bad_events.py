"""Generated malformed events for the bad-input campaigns (the SDK's gate, the HTTP ingest, the
worker's pricing path and the raw topic): :data:`corruption` yields ``(field, bad value)``, a
fault the event's validation must name by its field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from ailedger.demo_traffic import generate
from schemas.codec import encode_batch, event_to_dict, unpack
from schemas.events import MAX_LATENCY_MS, MAX_METADATA_BYTES, MAX_TOKENS_PER_BUCKET

TOKEN_FIELDS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"]
WORDS = st.from_regex(r"[a-z]{1,12}", fullmatch=True)
INT64 = {"min_value": -2**63, "max_value": 2**63 - 1}  # what JSON carries here
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=201, max_size=300)

bad_count = st.one_of(st.integers(min_value=-2**63, max_value=-1),
                      st.integers(min_value=MAX_TOKENS_PER_BUCKET + 1, max_value=2**63 - 1),
                      WORDS, st.lists(st.integers(**INT64), max_size=2), st.floats(min_value=0.1, max_value=0.9))
bad_time = st.one_of(
    st.datetimes(min_value=datetime(2100, 1, 1), max_value=datetime(9999, 1, 1)).map(lambda d: d.isoformat() + "Z"),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(2014, 12, 1)).map(lambda d: d.isoformat() + "Z"),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1)).map(lambda d: d.isoformat()),
    WORDS, st.integers(min_value=-2**62, max_value=-1),
)
#: (field, bad value) pairs; the field must be named in the failure's reason (for ``type``,
#: an unknown version: the reason names the version).
corruption = st.one_of(
    st.tuples(st.sampled_from(TOKEN_FIELDS), bad_count),
    st.tuples(st.just("latency_ms"), st.one_of(st.floats(max_value=-0.001), WORDS,
                                                st.floats(min_value=MAX_LATENCY_MS * 2, allow_infinity=False))),
    st.tuples(st.just("occurred_at"), bad_time),
    st.tuples(st.just("event_id"), st.one_of(WORDS, st.integers(**INT64), st.none())),
    st.tuples(st.sampled_from(["account_id", "provider", "model"]),
              st.one_of(st.just(""), TEXT.filter(lambda s: len(s.strip()) > 200), st.integers(**INT64), st.none())),
    st.tuples(st.just("prompt_type"), st.from_regex(r"[a-z]{1,5}[ !@#$%^&*()]{1,3}[a-z]{1,5}", fullmatch=True)),
    st.tuples(st.just("metadata"), st.integers(min_value=1, max_value=4).map(
        lambda n: {f"k{i}": "x" * MAX_METADATA_BYTES for i in range(n)})),
    st.tuples(st.just("metadata"), st.one_of(WORDS, st.lists(st.integers(**INT64), max_size=3))),
    st.tuples(st.just("extra_usage"),
              st.dictionaries(WORDS, st.integers(min_value=-2**63, max_value=-1), min_size=1, max_size=2)),
    st.tuples(st.just("type"), st.integers(min_value=2, max_value=99).map(lambda v: f"ai.call.v{v}")),
    st.tuples(st.just("error_type"), WORDS),  # on a successful call
)


def valid_events(count: int, seed: int, now: datetime) -> list[dict[str, Any]]:
    """``count`` valid demo events as they travel: JSON-shaped dicts (ids and times as text)."""
    return unpack(encode_batch([event_to_dict(e) for e in generate(count, seed=seed, now=now)]))


def is_named(field: str, reason: str) -> bool:
    """Whether a failure's reason names the faulty field (an unknown ``type`` by its version)."""
    return field in reason or (field == "type" and "version" in reason)


def corrupt(item: dict, field: str, value: object) -> dict:
    """``item`` with the fault (an ``error_type`` fault is one on a successful call)."""
    bad = {**item, field: value}
    if field == "error_type":
        bad["success"] = True
    return bad
