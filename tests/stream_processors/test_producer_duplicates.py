"""An event a producer publishes twice (a second raw message, same ``event_id``) is counted once
by the live statistics: the pricing stage drops the copy (``stream_processors/recent_ids.py``).
Before, each copy was counted (ClickHouse alone stayed exact)."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from ailedger.topics import create_topics
from tests.consumers.conftest import publish, wait_for
from tests.consumers.test_fault_tolerance import priced_events
from tests.stream_processors.test_worker_recovery import changelog_states, processed_calls

pytestmark = pytest.mark.integration


def test_a_republished_event_is_counted_once(settings, worker_factory, unique_id):
    app_id = f"app{unique_id}"
    create_topics(settings)
    first, later = priced_events(300, seed=35), priced_events(200, seed=36)
    copies = first[40:100] + first[250:260]  # as a producer re-sends a batch whose ack it lost
    worker, log = worker_factory("w1")
    publish(settings, first, batch_size=50)
    publish(settings, copies, batch_size=25)
    publish(settings, later, batch_size=50)

    unique = first + later
    assert wait_for(lambda: processed_calls(settings, app_id) >= len(unique), timeout=90, interval=0.5), \
        f"{processed_calls(settings, app_id)} of {len(unique)} calls counted"
    time.sleep(1.5)  # the copies, had they been counted, would show by now
    counted = {pt: s.stats.all_time.calls for pt, s in changelog_states(settings, app_id).items()}
    assert counted == dict(Counter(e.prompt_type for e in unique))
    dropped = sum(int(n) for n in re.findall(r"(\d+) calls dropped: their event ids", log.read_text()))
    assert dropped == len(copies)
    assert worker.poll() is None
