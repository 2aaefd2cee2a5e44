"""Views of compacted topics: the latest value per key, kept current by a background thread.

``CompactedView`` reads every partition of one topic from the beginning with kafka-python (no
consumer group, nothing committed) and keeps the latest decoded value per key; a tombstone (no
value) removes the key. Reads (``get``) are one dict lookup, without a lock: the thread replaces
entries whole (a dict assignment is atomic under the GIL), so any thread may call them cheaply.

* :class:`PromptConfigView` - ``ai.prompt-configs.v1`` -> :class:`PromptConfig` (defaults when
  unknown). The ClickHouse sink calls ``get`` per row to drop inactive prompt types and blank
  prompt/response unless ``track_full_data``.
* :class:`PromptStatsView` - ``ai.prompt-stats.v1`` (statistics + latest call per prompt type).
* :class:`DailyUsageView` - ``ai.daily-usage.v1`` (daily usage per account, user, prompt type).
* :class:`BudgetsView` - ``ai.budgets.v1`` over the budgets of ``AILEDGER_BUDGETS_FILE``.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timezone
from typing import Any, Callable, Generic, Iterable, TypeVar

import orjson

from ailedger import topics
from ailedger.settings import CommonSettings
from schemas.prompt_config import Budget, PromptConfig
from schemas.stats import DailyUsage, LatestCall, PromptTypeStatsView

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Pause between polls that return nothing. A kafka-python consumer polling an idle topic in a
#: loop burns ~25-40 % of a core against noida-db (fetches return at once instead of waiting
#: ``fetch_max_wait_ms``), and in the worker that CPU is taken from the Faust event loop (GIL);
#: sleeping when idle costs <1 % and delays a change by at most this much.
IDLE_SECONDS = 0.5


class CompactedView(Generic[T]):
    def __init__(self, settings: CommonSettings, topic: str, decode: Callable[[str, bytes], T], name: str = ""):
        self.settings = settings
        self.topic = topic
        self.decode = decode
        self.name = name or f"view-{topic}"
        self._data: dict[str, T] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    # -- reading -------------------------------------------------------------------------------
    def get_value(self, key: str) -> T | None:
        return self._data.get(key)

    def items(self) -> list[tuple[str, T]]:
        return list(self._data.items())

    def keys(self) -> list[str]:
        return list(self._data)

    def put_local(self, key: str, value: T | None) -> None:
        """Show a value just published before it comes back from the topic (read-your-writes)."""
        if value is None:
            self._data.pop(key, None)
        else:
            self._data[key] = value

    @property
    def ready(self) -> bool:
        """True once everything on the topic when the view started has been read."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> "CompactedView[T]":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception:  # noqa: BLE001 - a broker hiccup must not end the view: reconnect
                self.errors += 1
                log.exception("%s: consumer failed; reconnecting", self.name)
                self._stop.wait(1.0)

    def _consume(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.settings.bootstrap_servers, group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest",
                                 client_id=self.name, max_partition_fetch_bytes=8 * 1024 * 1024,
                                 fetch_max_wait_ms=self.settings.fetch_max_wait_ms)
        try:
            partitions = None
            while not partitions and not self._stop.is_set():
                partitions = consumer.partitions_for_topic(self.topic)
                if not partitions:
                    self._ready.set()  # no topic yet: nothing to catch up with
                    self._stop.wait(1.0)
            if self._stop.is_set():
                return
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            if all(consumer.position(tp) >= ends[tp] for tp in tps):
                self._ready.set()
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=20, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self._apply(record.key, record.value)
                if not self._ready.is_set() and all(consumer.position(tp) >= ends[tp] for tp in tps):
                    self._ready.set()
                if not batches:
                    self._stop.wait(IDLE_SECONDS)
        finally:
            consumer.close()

    def _apply(self, raw_key: bytes | None, raw_value: bytes | None) -> None:
        if raw_key is None:
            return
        key = raw_key.decode("utf-8", "replace")
        if raw_value is None:
            self._data.pop(key, None)
            return
        try:
            self._data[key] = self.decode(key, raw_value)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the view
            self.errors += 1
            log.warning("%s: cannot decode the value of %r: %s", self.name, key, exc)


class PromptConfigView(CompactedView[PromptConfig]):
    def __init__(self, settings: CommonSettings):
        super().__init__(settings, settings.topic(topics.PROMPT_CONFIGS),
                         lambda key, raw: PromptConfig.model_validate_json(raw), "prompt-config-view")
        self._defaults: dict[str, PromptConfig] = {}

    def get(self, prompt_type: str) -> PromptConfig:
        """The prompt type's config; the defaults (active, no full data) when nobody set one."""
        config = self._data.get(prompt_type)
        if config is not None:
            return config
        default = self._defaults.get(prompt_type)
        if default is None:
            default = self._defaults[prompt_type] = PromptConfig.default(prompt_type)
        return default

    def known(self, prompt_type: str) -> bool:
        return prompt_type in self._data

    def all(self) -> list[PromptConfig]:
        return [config for _, config in sorted(self._data.items())]


class PromptStats:
    """One prompt type's published state: statistics (windows computed when read) + latest call."""

    def __init__(self, wire: dict[str, Any]):
        from stream_processors.stats.prompt_stats import from_wire

        self.state = from_wire(wire["state"]["stats"])
        snapshot = wire.get("snapshot")
        self.snapshot = LatestCall.model_validate(snapshot) if snapshot else None
        self.published_at = datetime.fromisoformat(wire["published_at"])

    def view(self, now: datetime | None = None) -> PromptTypeStatsView:
        from stream_processors.stats.prompt_stats import view

        return view(self.state, now or datetime.now(timezone.utc))


class PromptStatsView(CompactedView[PromptStats]):
    def __init__(self, settings: CommonSettings):
        super().__init__(settings, settings.topic(topics.PROMPT_STATS), lambda key, raw: PromptStats(orjson.loads(raw)),
                         "prompt-stats-view")

    def get(self, prompt_type: str) -> PromptStats | None:
        return self._data.get(prompt_type)


class DailyUsageView(CompactedView[DailyUsage]):
    def __init__(self, settings: CommonSettings):
        super().__init__(settings, settings.topic(topics.DAILY_USAGE),
                         lambda key, raw: DailyUsage.model_validate_json(raw), "daily-usage-view")

    def query(self, account_id: str | None = None, user_id: str | None = None, prompt_type: str | None = None,
              since: date | None = None, until: date | None = None) -> list[DailyUsage]:
        rows = [r for r in self._data.values()
                if (account_id is None or r.account_id == account_id)
                and (user_id is None or r.user_id == user_id)
                and (prompt_type is None or r.prompt_type == prompt_type)
                and (since is None or r.day >= since) and (until is None or r.day <= until)]
        return sorted(rows, key=lambda r: (r.day, r.account_id, r.user_id, r.prompt_type))


class BudgetsView(CompactedView[Budget]):
    """Budgets set through the API (topic) over those of the budgets file; the topic wins per key."""

    def __init__(self, settings: CommonSettings, file_budgets: Iterable[Budget] = ()):
        super().__init__(settings, settings.topic(topics.BUDGETS), lambda key, raw: Budget.model_validate_json(raw),
                         "budgets-view")
        self.file_budgets = {b.key: b for b in file_budgets}

    def get(self, key: str) -> Budget | None:
        budget = self._data.get(key)
        return budget if budget is not None else self.file_budgets.get(key)

    def all(self) -> list[Budget]:
        merged = {**self.file_budgets, **self._data}
        return [merged[k] for k in sorted(merged)]


def wait_all_ready(views: Iterable[CompactedView], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    return all(v.wait_ready(max(0.0, deadline - time.monotonic())) for v in views)
