"""A costed message the broker refuses loses no call: the worker stops with the run unacked, and
once the broker takes the messages again the restarted worker prices every call.

The broker refuses for real: the costed topic is created with a ``max.message.bytes`` smaller
than one costed message (the workers here send uncompressed, so the limits are plain sizes).
Faust alone logged ``_on_published error`` and committed the raw offsets, so the calls were
gone with nothing left to consume (the kill -9 test's one unexplained failure looked the same:
142 calls missing, raw lag 0, no dead letter).
"""

from __future__ import annotations

import time

import pytest

from ailedger import topics as names
from ailedger.topics import create_topics
from tests.conftest import requires_kafka_semantics
from tests.consumers.conftest import publish, wait_for
from tests.consumers.test_fault_tolerance import priced_events
from tests.topic_reader import costed_items, group_lag, read_topic

pytestmark = pytest.mark.integration


def set_topic_limit(settings, name: str, max_bytes: int, full_name: bool = False) -> None:
    """Make the broker refuse messages above ``max_bytes`` on one of this test's topics."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name if full_name else settings.topic(name),
                                            configs={"max.message.bytes": str(max_bytes)})])
    finally:
        admin.close()


def _costed_ids(settings) -> list[str]:
    return [item["event"]["event_id"] for _, items in read_topic(settings, names.COSTED, decode=costed_items)
            for item in items]


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_a_refused_costed_message_stops_the_worker_and_loses_nothing(settings, worker_factory, unique_id):
    create_topics(settings)
    set_topic_limit(settings, names.COSTED, 2000)  # smaller than any costed message of these events
    events = priced_events(200, seed=31)
    worker, log = worker_factory("first", home="node", AILEDGER_COMPRESSION="none")
    publish(settings, events, batch_size=50)

    wait_for(lambda: worker.poll() is not None, timeout=60)  # the refusal should end it
    assert group_lag(settings, f"app{unique_id}") > 0, "the refused run's raw offsets were committed: calls lost"
    assert worker.poll() is not None, "the worker went on after the broker refused its costed messages"
    text = log.read_text()
    assert "were not delivered" in text and "MessageSizeTooLarge" in text

    set_topic_limit(settings, names.COSTED, 8 * 1024 * 1024)
    worker_factory("second", home="node", AILEDGER_COMPRESSION="none")
    wait_for(lambda: len(set(_costed_ids(settings))) >= len(events), timeout=90, interval=0.5)
    assert set(_costed_ids(settings)) == {str(e.event_id) for e in events}


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_calls_with_long_prompts_are_sent_in_messages_the_broker_takes(settings, worker_factory):
    """Calls carry their prompt and response to the costed topic: 500 calls of a few kB each are
    megabytes, above a broker's limit (Kafka's default is 1 MB). The worker cuts costed messages
    at ``AILEDGER_MAX_COSTED_BYTES``, so it prices every call and keeps running."""
    create_topics(settings)
    set_topic_limit(settings, names.COSTED, 60_000)
    events = [e.model_copy(update={"prompt": f"{i} " + "p" * 1500, "response": f"{i} " + "r" * 500})
              for i, e in enumerate(priced_events(300, seed=34))]  # ~1.4 MB of costed calls in all
    worker, log = worker_factory("first", home="node", AILEDGER_COMPRESSION="none",
                                 AILEDGER_MAX_COSTED_BYTES="50000")
    publish(settings, events, batch_size=25)  # raw messages below the limit too
    wait_for(lambda: len(set(_costed_ids(settings))) >= len(events) or worker.poll() is not None, timeout=90,
             interval=0.5)
    assert worker.poll() is None, f"the worker stopped: {log.read_text()[-2000:]}"
    assert set(_costed_ids(settings)) == {str(e.event_id) for e in events}


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_a_refused_changelog_record_stops_the_worker_and_the_statistics_stay_exact(settings, worker_factory,
                                                                                  unique_id):
    """The statistics' table write is part of the run too: its changelog (what a new owner
    recovers from) refuses the record, the worker stops without acking the costed messages, and
    the restarted worker's changelog holds every call once."""
    from stream_processors.stats import tables
    from tests.stream_processors.test_worker_recovery import processed_calls

    app_id = f"app{unique_id}"
    create_topics(settings, extra=tables.changelog_topic_specs(settings, app_id))
    changelog = tables.changelog_topic(app_id, tables.PROMPT_TYPES)
    set_topic_limit(settings, changelog, 300, full_name=True)  # below any prompt type's state
    events = priced_events(200, seed=32)
    worker, log = worker_factory("first", home="node", AILEDGER_COMPRESSION="none")
    publish(settings, events, batch_size=50)

    wait_for(lambda: worker.poll() is not None, timeout=60)  # the refusal should end it
    assert group_lag(settings, app_id, names.COSTED) > 0, "the statistics' costed offsets were committed"
    assert worker.poll() is not None, \
        f"the worker went on after the broker refused its changelog records: {log.read_text()[-3000:]}"
    assert "were not delivered" in log.read_text()

    set_topic_limit(settings, changelog, 8 * 1024 * 1024, full_name=True)
    worker_factory("second", home="node", AILEDGER_COMPRESSION="none")

    wait_for(lambda: processed_calls(settings, app_id) >= len(events), timeout=90, interval=0.5)
    time.sleep(1.0)  # a double count would show now
    assert processed_calls(settings, app_id) == len(events)


@requires_kafka_semantics("Tansu stores no topic configs, so it never refuses a message as too large")
def test_a_refused_live_view_is_sent_again_once_the_broker_takes_it(settings, worker_factory, unique_id):
    """The live views' timer sends outside any run: a value the broker refused used to be dropped
    with its key's change mark, so the API's view stayed stale until the key changed again. Now the
    worker goes on and sends it again every round; no more calls arrive after the refusal here."""
    from consumers.prompt_configs import PromptStats
    from tests.stream_processors.test_worker_recovery import processed_calls

    REFUSED = "messages of the live views not delivered"
    app_id = f"app{unique_id}"
    create_topics(settings)
    set_topic_limit(settings, names.PROMPT_STATS, 300)  # below any prompt type's published state
    events = priced_events(200, seed=33)
    worker, log = worker_factory("first", home="node", AILEDGER_COMPRESSION="none")
    publish(settings, events, batch_size=50)

    assert wait_for(lambda: processed_calls(settings, app_id) == len(events), timeout=60, interval=0.5)
    refusals = log.read_text().count(REFUSED)  # a round after the last call's change must be refused too
    assert wait_for(lambda: log.read_text().count(REFUSED) > refusals, timeout=30, interval=0.5), \
        "no round refused the views after the last call"
    assert read_topic(settings, names.PROMPT_STATS) == []
    set_topic_limit(settings, names.PROMPT_STATS, 8 * 1024 * 1024)

    def published() -> dict[str, int]:
        latest = {key.decode(): PromptStats(value) for key, value in read_topic(settings, names.PROMPT_STATS)}
        return {pt: s.state.all_time.calls for pt, s in latest.items()}

    counts = {}
    for prompt_type in (e.prompt_type for e in events):
        counts[prompt_type] = counts.get(prompt_type, 0) + 1
    assert wait_for(lambda: published() == counts, timeout=30, interval=0.5), (published(), counts)
    assert worker.poll() is None, "a refused view must not stop the worker"
