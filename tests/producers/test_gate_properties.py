"""Bad-input campaign at the SDK's door, generated: the gate never raises into the service; each
malformed event is dropped, counted and dead-lettered to the spool's ``rejects.jsonl`` with a
reason naming its field, and every valid event passes."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.gate import Gate
from producers.spool import Spool
from producers.stats import Stats
from tests.bad_events import corrupt, corruption, is_named, valid_events

VALID = valid_events(20, seed=22, now=datetime.now(timezone.utc))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(min_value=0, max_value=len(VALID) - 1), corruption, max_size=6))
def test_the_gate_dead_letters_each_bad_event_and_passes_the_rest(corruptions):
    items = [corrupt(item, *corruptions[i]) if i in corruptions else item for i, item in enumerate(VALID)]
    with tempfile.TemporaryDirectory() as home:
        spool = Spool(Path(home))
        stats = Stats()
        gate = Gate(spool, stats)
        passed = [gate.validate(item) for item in items]
        letters = [orjson.loads(line) for line in spool.reject_path.read_bytes().splitlines()] \
            if spool.reject_path.exists() else []
        spool.close()

    assert [i for i, out in enumerate(passed) if out is None] == sorted(corruptions)
    assert stats.rejected == len(corruptions) == len(letters)
    for letter, index in zip(letters, sorted(corruptions)):
        assert letter["stage"] == "track"
        assert is_named(corruptions[index][0], letter["reason"]), letter["reason"]
    assert [str(out["event_id"]) for out in passed if out is not None] == \
        [VALID[i]["event_id"] for i in range(len(VALID)) if i not in corruptions]
