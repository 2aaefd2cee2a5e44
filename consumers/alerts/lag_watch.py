"""``pipeline_lag`` alerts: a stage that stopped, or cannot keep up, says so on the alerts topic.

A stopped worker raises no error anywhere: calls just stop reaching the reports. The serve
process asks the broker for every stage's lag (:mod:`ailedger.lag`) every
``AILEDGER_LAG_CHECK_SECONDS`` (30 s; 0 turns the watch off). A stage that stayed at least
``AILEDGER_LAG_ALERT_MESSAGES`` (1,000) messages behind for ``AILEDGER_LAG_ALERT_SECONDS``
(120 s) without catching up at all raises a warning, then at most one per stage per
``AILEDGER_LAG_ALERT_COOLDOWN_SECONDS`` (900 s). A backlog being worked off (a restarted worker,
a replay) shrinks, and raises nothing. The alert goes where the worker's go: the alerts topic,
then webhooks and ``ai_alerts``.

:func:`step` decides; :func:`run_lag_watch` asks the broker and publishes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ailedger import topics
from ailedger.lag import StageLag, stage_lags
from schemas.alerts import Alert, AlertKind, Severity, stable_alert_id
from schemas.codec import dumps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagRules:
    min_behind: int = 1_000
    window_seconds: float = 120.0
    cooldown_seconds: float = 900.0


@dataclass
class WatchState:
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # stage -> [(time, behind)]
    alerted_at: dict[str, float] = field(default_factory=dict)  # stage -> time of its last alert


def step(state: WatchState, lags: Sequence[StageLag], now: float, rules: LagRules) -> tuple[WatchState, list[Alert]]:
    """Add one round of lags (at ``now``, epoch seconds); the alerts it raises. A stage alerts when
    its samples span ``window_seconds``, every one of them is at least ``min_behind`` and the
    latest is no smaller than the first (it did not catch up at all)."""
    alerts = []
    for lag in lags:
        if lag.behind is None:  # no such topic (yet): nothing to watch
            state.samples.pop(lag.stage, None)
            continue
        kept = [(t, n) for t, n in state.samples.get(lag.stage, []) if now - t <= rules.window_seconds]
        older = [(t, n) for t, n in state.samples.get(lag.stage, []) if now - t > rules.window_seconds]
        samples = older[-1:] + kept + [(now, lag.behind)]  # the last sample before the window starts it
        state.samples[lag.stage] = samples
        first_t, first_n = samples[0]
        if now - first_t < rules.window_seconds or any(n < rules.min_behind for _, n in samples):
            continue
        if lag.behind < first_n or now - state.alerted_at.get(lag.stage, float("-inf")) < rules.cooldown_seconds:
            continue
        state.alerted_at[lag.stage] = now
        alerts.append(_alert(lag, first_n, now - first_t, now, rules))
    return state, alerts


def _alert(lag: StageLag, before: int, seconds: float, now: float, rules: LagRules) -> Alert:
    at = datetime.fromtimestamp(now, timezone.utc)
    subject = f"stage={lag.stage}"
    window = str(int(now // rules.cooldown_seconds))
    return Alert(
        alert_id=stable_alert_id(AlertKind.PIPELINE_LAG.value, subject, window),
        kind=AlertKind.PIPELINE_LAG, severity=Severity.WARNING, subject=subject, occurred_at=at,
        message=(f"{lag.stage} is {lag.behind:,} messages behind on {lag.topic} (group {lag.group}) and did not "
                 f"catch up in {seconds:.0f} s ({before:,} before): it stopped or cannot keep up"),
        figures={"behind": lag.behind, "behind_before": before, "seconds": round(seconds),
                 "group": lag.group, "topic": lag.topic})


def run_lag_watch(settings, stop: threading.Event) -> None:
    """Check the stages' lag every ``settings.lag_check_seconds`` until ``stop`` is set, and publish
    the alerts :func:`step` raises. A broker that does not answer is logged and asked again; an
    alert it does not take is logged, not retried (the thread, a part of ``ailedger serve`` whose
    end fails ``/healthz``, keeps running)."""
    from consumers.api.pipeline import lag_groups

    rules = LagRules(settings.lag_alert_messages, settings.lag_alert_seconds, settings.lag_alert_cooldown_seconds)
    groups = lag_groups(settings)
    state = WatchState()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", client_id="ailedger-lag-watch")
    try:
        while not stop.wait(settings.lag_check_seconds):
            try:
                lags = stage_lags(settings, **groups)
            except KafkaError as exc:
                log.warning("lag watch: the broker did not answer (%s: %s); asking again", type(exc).__name__, exc)
                continue
            state, alerts = step(state, lags, datetime.now(timezone.utc).timestamp(), rules)
            for alert in alerts:
                log.warning("%s", alert.message)
            try:  # a broker gone between the two: the alert is logged above, the watch goes on
                for alert in alerts:
                    producer.send(settings.topic(topics.ALERTS), key=alert.alert_id.encode(), value=dumps(alert))
                if alerts:
                    producer.flush()
            except KafkaError as exc:
                log.warning("lag watch: %d alert(s) not published (%s: %s)", len(alerts), type(exc).__name__, exc)
    finally:
        producer.close()
