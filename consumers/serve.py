"""The serve process: owns the ClickHouse store, runs the sinks in threads and serves the API.

The embedded engine lets one process open its data directory, so this process is the one that
writes (sinks) and reads (API) it; every other process reaches the data through the API.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ailedger import kafka_pacing, topics
from ailedger.settings import ApiSettings
from consumers.clickhouse.migrations import migrate
from consumers.clickhouse.store import Store
from consumers.sink import TopicSink
from consumers.sink.costed_writer import CostedCallsWriter
from consumers.sink.dead_letter_writer import DeadLettersWriter

log = logging.getLogger(__name__)


class Services:
    """The sinks (and other consumer threads) around one store."""

    def __init__(self, settings: ApiSettings, store: Store | None = None):
        kafka_pacing.install()  # before any consumer: noida-db answers empty fetches at once
        self.settings = settings
        self.store = store or Store.from_settings(settings)
        migrate(self.store, settings.text_ttl_days)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.crashed: dict[str, str] = {}  #: consumer thread name -> why it ended
        self._on_stop: list[Callable[[], None]] = []
        self.sinks: list[TopicSink] = []
        self.config_lookup = _config_lookup(settings)
        self.on_stop(getattr(self.config_lookup, "close", lambda: None))  # else its consumer outlives us
        self.costed_sink = TopicSink(settings, self.store, settings.topic(topics.COSTED),
                                     CostedCallsWriter(self.config_lookup), name="costed-sink")
        self.dead_letter_sink = TopicSink(settings, self.store, settings.topic(topics.DLQ), DeadLettersWriter(),
                                          group=f"{settings.sink_group}-dlq", name="dead-letter-sink",
                                          fetch_max_wait_ms=settings.dead_letter_fetch_max_wait_ms)
        self.sinks += [self.costed_sink, self.dead_letter_sink]

    def start(self) -> "Services":
        for sink in self.sinks:
            self._thread(sink.name, sink.run, self.stop_event)
        for name, target in _extra_consumers(self.settings, self.store):
            self._thread(name, target, self.stop_event)
        return self

    def _thread(self, name: str, target: Callable, *args) -> None:
        thread = threading.Thread(target=self._guard, args=(name, target, *args), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _guard(self, name: str, target: Callable, *args) -> None:
        try:
            target(*args)
        except Exception as exc:  # noqa: BLE001 - log the crash of one consumer thread loudly
            self.crashed[name] = f"{type(exc).__name__}: {exc}"
            log.exception("%s crashed", name)
            raise

    def problems(self) -> dict[str, str]:
        """Consumer threads that ended while the services run (``/healthz`` answers 503 with them,
        so an orchestrator restarts the process; nothing is committed past what they stored)."""
        if self.stop_event.is_set():
            return {}
        ended = {t.name: "stopped" for t in self.threads if not t.is_alive()}
        return {**ended, **{name: f"crashed: {why}" for name, why in self.crashed.items()}}

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the services stop (views, publishers of the API)."""
        self._on_stop.append(callback)

    def stop(self, timeout: float = 30.0) -> None:
        """Flush every sink, commit, leave the groups."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        for callback in self._on_stop:
            try:
                callback()
            except Exception:  # noqa: BLE001 - stopping the rest matters more
                log.exception("stop callback failed")


def _config_lookup(settings: ApiSettings):
    """Per-prompt-type storage switches (is_active, track_full_data), when that module exists."""
    try:
        from consumers.prompt_configs import PromptConfigView
    except ImportError:
        from consumers.clickhouse.rows import default_config

        return default_config
    view = PromptConfigView(settings)
    view.start()

    def lookup(prompt_type: str) -> tuple[bool, bool]:
        config = view.get(prompt_type)
        return config.is_active, config.track_full_data

    lookup.close = view.close  # type: ignore[attr-defined]
    return lookup


def _extra_consumers(settings: ApiSettings, store: Store):
    """Other loops living in this process: alert delivery, and auto-repair and the lag watch
    unless turned off."""
    from consumers.alerts import run_alert_delivery
    from consumers.alerts.lag_watch import run_lag_watch
    from consumers.auto_repair import run_auto_repair

    loops = [("alert-delivery", lambda stop: run_alert_delivery(settings, store, stop))]
    if settings.auto_repair_seconds > 0:
        loops.append(("auto-repair", lambda stop: run_auto_repair(settings, store, stop)))
    if settings.lag_check_seconds > 0:
        loops.append(("lag-watch", lambda stop: run_lag_watch(settings, stop)))
    return loops
