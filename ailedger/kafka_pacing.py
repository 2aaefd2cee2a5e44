"""Pace re-fetches after an empty fetch that came back too soon (a client-side broker shim).

Why: a Kafka consumer sends Fetch requests with ``max_wait_ms``/``min_bytes``; a broker with no
new data holds the request until data arrives or ``max_wait_ms`` passes, so an idle consumer
sends about two fetches a second. The dev broker noida-db ignores both fields and answers an
empty fetch at once, so every idle consumer spins: one aiokafka consumer on an empty
4-partition topic sent ~12,700 fetches in 5 s (Tansu: 21), and the Faust worker and the sink
threads burn CPU the rest of the pipeline needs.

What: :func:`install` patches both client libraries used here, aiokafka (the Faust worker) and
kafka-python (the sinks and other consumers in ``consumers/``), so that after a fetch to a
node came back *empty* sooner than ``AILEDGER_FETCH_EMPTY_BACKOFF_MS`` (default
:data:`DEFAULT_BACKOFF_MS`; ``0`` disables) the next fetch of *the same partitions at the same
offsets* to that node is not sent before that interval has passed since the empty one was sent.
While the same partitions keep coming back empty at the same offsets (an idle topic), each hold
is twice as long as the previous one, up to ``AILEDGER_FETCH_EMPTY_BACKOFF_MAX_MS`` (default
:data:`DEFAULT_MAX_BACKOFF_MS`): the many idle consumers of a pipeline (dead letters, alerts,
compacted views) then cost ~1/7 of what a fixed interval costs, and a busy one, whose offsets
move with every fetch, is held at most the base interval.

* On a broker that honours ``max_wait_ms`` (Apache Kafka, Redpanda, Tansu) an empty fetch
  already took ``max_wait_ms`` (hundreds of ms), longer than the interval, so the shim never
  delays anything there; it only acts on brokers that answer empty fetches early.
* A fetch that returned records (or an error) never causes a delay: pacing is armed only by a
  response with no records and no error.
* A partition with data is never held back: a fetch is held only when every partition it would
  ask for was in the empty fetch at the same offset. A partition whose buffered records were
  just consumed (so it is fetched again at a new offset), a resumed, seeked or newly assigned
  partition makes the request go out at once, together with the others of its node.
* Nothing else is delayed: heartbeats, commits, rebalances and offset resets run as before.
  The kafka-python foreground thread waits out the remaining interval (at most the interval,
  capped by ``poll()``'s own timeout and the coordinator's next deadline) where it would
  otherwise have slept ``retry_backoff_ms`` (see ``KafkaConsumer._poll_once``), so ``poll``
  neither busy-loops nor oversleeps its timeout.

Records published while a consumer is paced are delivered at most one hold later than without
the shim: the base interval for a consumer that just had data, at most the maximum for one idle
for a while (a broker honouring ``max_wait_ms`` would hold the fetch longer, but answer at once
when data arrives).

The patches wrap private methods of aiokafka 0.14 (``Fetcher._get_actions_per_node`` and
``Fetcher._proc_fetch_request``) and kafka-python 3.0 (``Fetcher._fetchable_partitions``,
``Fetcher._handle_fetch_response`` and ``Fetcher.fetch_records``). If a library does not have
them (another version), that library is left unpatched with a warning; consuming still works.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

ENV = "AILEDGER_FETCH_EMPTY_BACKOFF_MS"
MAX_ENV = "AILEDGER_FETCH_EMPTY_BACKOFF_MAX_MS"
DEFAULT_BACKOFF_MS = 30.0
DEFAULT_MAX_BACKOFF_MS = 200.0

_lock = threading.Lock()
_interval = DEFAULT_BACKOFF_MS / 1000  # seconds; 0 disables (the wrappers pass through)
_max_interval = DEFAULT_MAX_BACKOFF_MS / 1000  # seconds; the longest hold (never below _interval)
_originals: dict[tuple[type, str], object] = {}  # (class, attribute) -> the unpatched function


def backoff_ms() -> float:
    """The pacing interval in force, in milliseconds (0: disabled)."""
    return _interval * 1000


def max_backoff_ms() -> float:
    """The longest hold of an idle consumer, in milliseconds."""
    return _max_interval * 1000


def _env_ms(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        log.warning("%s=%r is not a number; using %s ms", name, raw, default)
        return default


def install(backoff_ms: float | None = None, max_backoff_ms: float | None = None) -> None:
    """Patch aiokafka's and kafka-python's fetchers, once per process (later calls only update
    the intervals). ``backoff_ms`` defaults to ``$AILEDGER_FETCH_EMPTY_BACKOFF_MS``, else
    :data:`DEFAULT_BACKOFF_MS`; ``0`` disables pacing. ``max_backoff_ms`` (the longest hold of
    an idle consumer) defaults to ``$AILEDGER_FETCH_EMPTY_BACKOFF_MAX_MS``, else
    :data:`DEFAULT_MAX_BACKOFF_MS`; it is never below ``backoff_ms`` (equal: no growth)."""
    global _interval, _max_interval
    if backoff_ms is None:
        backoff_ms = _env_ms(ENV, DEFAULT_BACKOFF_MS)
    if max_backoff_ms is None:
        max_backoff_ms = _env_ms(MAX_ENV, DEFAULT_MAX_BACKOFF_MS)
    with _lock:
        _interval = max(0.0, float(backoff_ms)) / 1000
        _max_interval = max(_interval, float(max_backoff_ms) / 1000)
        if not _originals:
            _patch_aiokafka()
            _patch_kafka_python()


def uninstall() -> None:
    """Restore the libraries' own methods (for tests and benchmarks)."""
    with _lock:
        for (cls, name), function in _originals.items():
            setattr(cls, name, function)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)


@dataclass(frozen=True)
class _Hold:
    """The partitions (and offsets) of an early empty fetch to one node, and when the next
    fetch of the same partitions may go."""

    partitions: frozenset  # {(topic, partition, offset)}
    until: float  # time.monotonic()
    length: float  # seconds: doubles while the same partitions keep coming back empty


class _Holds:
    """Per-fetcher state: node id -> :class:`_Hold`. kafka-python touches it from the IO thread
    (responses, requests) and the consumer's thread (waiting), so it takes a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_node: dict = {}

    def record(self, node_id, partitions: frozenset, sent_at: float, empty: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if empty and _interval > 0 and now - sent_at < _interval:
                previous = self._by_node.get(node_id)
                length = _interval
                if previous is not None and previous.partitions == partitions:  # still nothing new
                    length = min(previous.length * 2, _max_interval)
                self._by_node[node_id] = _Hold(partitions, sent_at + length, length)
            else:
                self._by_node.pop(node_id, None)

    def held(self, node_id, partitions: frozenset, now: float) -> float:
        """Seconds the fetch of ``partitions`` to ``node_id`` must still wait (0: send now)."""
        with self._lock:
            hold = self._by_node.get(node_id)
        if hold is None or _interval <= 0:
            return 0.0
        remaining = min(hold.until - now, _max_interval)  # the maximum may have been lowered since
        if remaining <= 0 or not partitions <= hold.partitions:
            return 0.0
        return remaining

    def remaining(self, now: float) -> float:
        """Seconds until the earliest hold ends (0: none)."""
        if _interval <= 0:
            return 0.0
        with self._lock:
            ends = [min(hold.until - now, _max_interval) for hold in self._by_node.values()]
        return max(0.0, min(ends, default=0.0))


def _holds(fetcher) -> _Holds:
    holds = fetcher.__dict__.get("_ailedger_holds")
    if holds is None:
        holds = fetcher.__dict__.setdefault("_ailedger_holds", _Holds())
    return holds


def _patch(cls: type, name: str, wrapper) -> None:
    _originals[(cls, name)] = cls.__dict__[name]
    setattr(cls, name, wrapper)


# -- aiokafka (Faust) ------------------------------------------------------------------------
# The background task ``Fetcher._fetch_requests_routine`` loops: ``_get_actions_per_node`` builds
# one FetchRequest per node (covering every fetchable partition there) plus a loop timeout, a
# ``_proc_fetch_request`` task per request processes the response (True when it buffered records
# or an error for the user), and the loop waits for a task, the user consuming, or the timeout.

def _aiokafka_partitions(request) -> frozenset:
    return frozenset((topic, partition, offset)
                     for topic, partitions in request.topics for partition, offset, *_ in partitions)


def _patch_aiokafka() -> None:
    try:
        from aiokafka.consumer.fetcher import Fetcher
    except ImportError:
        return
    if not all(callable(getattr(Fetcher, name, None)) for name in ("_get_actions_per_node", "_proc_fetch_request")):
        log.warning("aiokafka's Fetcher has changed; fetch pacing not installed for aiokafka")
        return
    get_actions = Fetcher.__dict__["_get_actions_per_node"]
    proc_fetch = Fetcher.__dict__["_proc_fetch_request"]

    @functools.wraps(get_actions)
    def _get_actions_per_node(self, assignment):
        fetch_requests, reset_requests, timeout, invalid_metadata, resume_futures = get_actions(self, assignment)
        if _interval > 0 and fetch_requests:
            holds, now, kept = _holds(self), time.monotonic(), []
            for node_id, request in fetch_requests:
                wait = holds.held(node_id, _aiokafka_partitions(request), now)
                if wait > 0:
                    timeout = wait if timeout is None else min(timeout, wait)  # loop again when it ends
                else:
                    kept.append((node_id, request))
            fetch_requests = kept
        return fetch_requests, reset_requests, timeout, invalid_metadata, resume_futures

    @functools.wraps(proc_fetch)
    async def _proc_fetch_request(self, assignment, node_id, request):
        sent_at = time.monotonic()
        has_new_data = await proc_fetch(self, assignment, node_id, request)
        # False also after a transport error (the original already slept retry_backoff_ms, so no
        # hold results) or when the assignment changed (then the fetch is of no interest).
        if _interval > 0 and assignment.active:
            _holds(self).record(node_id, _aiokafka_partitions(request), sent_at, empty=not has_new_data)
        return has_new_data

    _patch(Fetcher, "_get_actions_per_node", _get_actions_per_node)
    _patch(Fetcher, "_proc_fetch_request", _proc_fetch_request)


# -- kafka-python (consumers/) ---------------------------------------------------------------
# ``KafkaConsumer._poll_once`` calls ``Fetcher.fetch_records``: it drains buffered records, sends
# fetches (``_create_fetch_requests`` over ``_fetchable_partitions``, one request per node) and,
# with nothing buffered, waits for an in-flight fetch; with nothing in flight it returns
# ``idle=True`` and ``_poll_once`` sleeps ``min(timeout, retry_backoff_ms)``. Responses are
# handled on the IO thread by ``_handle_fetch_response``.

def _has_records(records) -> bool:
    if records is None:
        return False
    try:
        return len(records) > 0
    except TypeError:  # an unknown container: count it as data (never delays)
        return True


def _kafka_python_empty(response) -> bool:
    """True for a response without an error and without a record in any partition."""
    if getattr(response, "error_code", 0):
        return False
    for topic_data in response.responses:
        for partition_data in topic_data.partitions:
            if partition_data.error_code or _has_records(partition_data.records):
                return False
    return True


def _patch_kafka_python() -> None:
    try:
        from kafka.consumer.fetcher import Fetcher
    except ImportError:
        return
    names = ("_fetchable_partitions", "_handle_fetch_response", "fetch_records", "_select_read_replica")
    if not all(callable(getattr(Fetcher, name, None)) for name in names):
        log.warning("kafka-python's Fetcher has changed; fetch pacing not installed for kafka-python")
        return
    fetchable_partitions = Fetcher.__dict__["_fetchable_partitions"]
    handle_response = Fetcher.__dict__["_handle_fetch_response"]
    fetch_records = Fetcher.__dict__["fetch_records"]

    @functools.wraps(fetchable_partitions)
    def _fetchable_partitions(self):
        tps = fetchable_partitions(self)
        holds = _holds(self)
        now = time.monotonic()
        if _interval <= 0 or not tps or holds.remaining(now) <= 0:
            return tps
        # Hold a node's partitions all together or not at all: a partial request would change
        # an incremental fetch session.
        by_node = collections.defaultdict(list)
        for tp in tps:
            by_node[self._select_read_replica(tp)].append(tp)
        kept = []
        for node_id, node_tps in by_node.items():
            try:
                partitions = frozenset((tp.topic, tp.partition, self._subscriptions.assignment[tp].position.offset)
                                       for tp in node_tps)
            except (KeyError, AttributeError):  # no position yet: not ours to hold
                partitions = None
            if partitions is None or holds.held(node_id, partitions, now) <= 0:
                kept.extend(node_tps)
        return kept

    @functools.wraps(handle_response)
    def _handle_fetch_response(self, node_id, fetch_offsets, send_time, response):
        try:
            return handle_response(self, node_id, fetch_offsets, send_time, response)
        finally:
            if _interval > 0:
                partitions = frozenset((tp.topic, tp.partition, offset) for tp, offset in fetch_offsets.items())
                _holds(self).record(node_id, partitions, send_time, empty=_kafka_python_empty(response))

    @functools.wraps(fetch_records)
    def _fetch_records(self, max_records=None, update_offsets=True, timeout_ms=None):
        started = time.monotonic()
        holds = _holds(self)
        wait = holds.remaining(started)
        if wait > 0 and timeout_ms is not None:
            # Another node's fetch may be in flight: wait for it no longer than the hold, so the
            # held fetch goes out when the hold ends.
            timeout_ms = min(timeout_ms, wait * 1000)
        records, idle = fetch_records(self, max_records, update_offsets=update_offsets, timeout_ms=timeout_ms)
        if records or self._completed_fetches or self.in_flight_fetches():
            return records, idle
        # Nothing buffered, nothing in flight: either an empty response just came back early
        # (a hold began) or a hold kept the fetch from being sent. Wait out the hold here, within
        # the caller's budget, so that the next call sends the fetch (rather than a call that
        # only finds the hold, then _poll_once sleeping retry_backoff_ms when idle).
        now = time.monotonic()
        wait = holds.remaining(now)
        if timeout_ms is not None:
            wait = min(wait, timeout_ms / 1000 - (now - started))
        if wait <= 0:
            return records, idle
        time.sleep(wait)
        return records, False

    _patch(Fetcher, "_fetchable_partitions", _fetchable_partitions)
    _patch(Fetcher, "_handle_fetch_response", _handle_fetch_response)
    _patch(Fetcher, "fetch_records", _fetch_records)
