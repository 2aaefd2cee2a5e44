"""Anomalies of one prompt type: cost and latency spikes, unpriced models, error-rate spikes.

``step(state, call, rules)`` looks at one call against the rolling averages of its prompt type
and model, then folds the call into them. The rolling average is an exponentially weighted mean
(weight ``rules.ewma_alpha``; a plain mean while there are fewer than ``1/alpha`` calls), kept
apart for cost (priced calls) and latency (successful calls). A spike fires only once the model
has ``rules.min_history`` calls behind it, and is compared with the average *before* the call.
``fold(state, calls, rules)`` is ``step`` over a run of calls (what the costed stage uses): the
same state and alerts, without building a state per call.

``check_error_rate(state, window, now, rules)`` fires when the error rate over the last
``rules.error_window_seconds`` (from the statistics' five-minute buckets) reaches
``rules.error_rate`` over at least ``rules.error_min_calls`` calls.

Every condition has a key; once fired it stays quiet for ``rules.cooldown_seconds`` (of event
time, so a replay decides the same). The alert id is ``stable_alert_id(kind, subject, window)``
with the cool-down period as the window: the same condition in the same period has one id.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from dataclasses import dataclass, field, replace
from typing import Any

from schemas.alerts import Alert, AlertKind, Severity, stable_alert_id
from stream_processors.alerts.rules import AlertRules
from stream_processors.stats.batch import CallBatch, Calls, as_batch, picker
from stream_processors.stats.calls import Call
from stream_processors.stats.totals import Totals


@dataclass(frozen=True, slots=True)
class Baseline:
    cost_n: int = 0
    cost_avg: float = 0.0
    latency_n: int = 0
    latency_avg: float = 0.0


@dataclass(frozen=True, slots=True)
class AnomalyState:
    """Frozen dataclasses, not pydantic models: ``step`` runs once per call (see ``stats.sketch``)."""

    models: dict[str, Baseline] = field(default_factory=dict)
    fired: dict[str, float] = field(default_factory=dict)  # condition key -> event time (epoch s) it last fired

    def to_wire(self) -> dict[str, Any]:
        return {"models": {m: [b.cost_n, b.cost_avg, b.latency_n, b.latency_avg] for m, b in self.models.items()},
                "fired": self.fired}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> "AnomalyState":
        return cls({str(m): Baseline(int(a), float(b), int(c), float(d)) for m, (a, b, c, d) in wire["models"].items()},
                   {str(k): float(t) for k, t in wire["fired"].items()})


def _rolling(avg: float, n: int, value: float, alpha: float) -> float:
    weight = max(alpha, 1.0 / (n + 1))
    return avg + (value - avg) * weight


def _cooling(state: AnomalyState, condition: str, ts: float, rules: AlertRules) -> bool:
    last = state.fired.get(condition)
    return last is not None and ts - last < rules.cooldown_seconds


def _alert(kind: AlertKind, severity: Severity, subject: str, ts: float, rules: AlertRules, message: str,
           figures: dict, at: datetime, account_id: str | None = None, event_id: str | None = None) -> Alert:
    window = str(int(ts // rules.cooldown_seconds))
    return Alert(alert_id=stable_alert_id(kind.value, subject, window), kind=kind, severity=severity,
                 subject=subject, account_id=account_id, message=message, figures=figures, occurred_at=at,
                 event_id=event_id or None)


def _unpriced_alert(call: Call, ts: float, rules: AlertRules) -> Alert:
    return _alert(
        AlertKind.UNPRICED_MODEL, Severity.WARNING,
        f"prompt_type={call.prompt_type} provider={call.provider} model={call.model}", ts, rules,
        f"no price for {call.provider}/{call.model}: calls are recorded unpriced, not as $0",
        {"provider": call.provider, "model": call.model, "reason": call.unpriced_reason},
        call.occurred_at, call.account_id, call.event_id)


def _cost_alert(call: Call, cost: float, history: int, avg: float, ts: float, rules: AlertRules) -> Alert:
    return _alert(
        AlertKind.COST_SPIKE, Severity.WARNING, f"prompt_type={call.prompt_type} model={call.model}", ts, rules,
        f"call cost ${call.cost_usd} is {cost / avg:.1f}x the rolling average",
        {"cost_usd": str(call.cost_usd), "rolling_avg_usd": str(Decimal(repr(avg))),
         "factor": round(cost / avg, 3), "threshold_factor": rules.cost_factor, "history_calls": history},
        call.occurred_at, call.account_id, call.event_id)


def _latency_alert(call: Call, history: int, avg: float, ts: float, rules: AlertRules) -> Alert:
    latency = call.latency_ms
    return _alert(
        AlertKind.LATENCY_SPIKE, Severity.WARNING, f"prompt_type={call.prompt_type} model={call.model}", ts, rules,
        f"call took {latency:.0f} ms, {latency / avg:.1f}x the rolling average",
        {"latency_ms": latency, "rolling_avg_ms": round(avg, 3), "factor": round(latency / avg, 3),
         "threshold_factor": rules.latency_factor, "history_calls": history},
        call.occurred_at, call.account_id, call.event_id)


def step(state: AnomalyState, call: Call, rules: AlertRules) -> tuple[AnomalyState, list[Alert]]:
    """Alerts this call raises, and the state with the call folded into the averages.

    The definition, one call at a time; runs of calls go through :func:`fold`, which decides the
    same (property-tested) without building a state per call."""
    base = state.models.get(call.model, Baseline())
    ts = call.ts
    raised: list[tuple[str, Alert]] = []

    if not call.priced:
        condition = f"unpriced|{call.provider}|{call.model}"
        if not _cooling(state, condition, ts, rules):
            raised.append((condition, _unpriced_alert(call, ts, rules)))
    elif call.cost_usd is not None:
        cost = float(call.cost_usd)
        condition = f"cost|{call.model}"
        if (base.cost_n >= rules.min_history and base.cost_avg > 0 and cost > rules.cost_factor * base.cost_avg
                and not _cooling(state, condition, ts, rules)):
            raised.append((condition, _cost_alert(call, cost, base.cost_n, base.cost_avg, ts, rules)))
        base = replace(base, cost_n=base.cost_n + 1,
                       cost_avg=_rolling(base.cost_avg, base.cost_n, cost, rules.ewma_alpha))

    if call.success:
        latency = call.latency_ms
        condition = f"latency|{call.model}"
        if (base.latency_n >= rules.min_history and base.latency_avg > 0
                and latency > rules.latency_factor * base.latency_avg
                and latency - base.latency_avg >= rules.latency_min_excess_ms
                and not _cooling(state, condition, ts, rules)):
            raised.append((condition, _latency_alert(call, base.latency_n, base.latency_avg, ts, rules)))
        base = replace(base, latency_n=base.latency_n + 1,
                       latency_avg=_rolling(base.latency_avg, base.latency_n, latency, rules.ewma_alpha))

    fired = state.fired
    if raised:
        fired = {**fired, **{condition: ts for condition, _ in raised}}
    models = dict(state.models)
    models[call.model] = base
    return AnomalyState(models, fired), [a for _, a in raised]


def fold(state: AnomalyState, calls: Calls, rules: AlertRules) -> tuple[AnomalyState, list[Alert]]:
    """``step`` over ``calls`` in order: the same final state and the same alerts in the same order.

    Per run rather than per call, over the run's columns and one model at a time: every
    condition and average belongs to one model, so each model's calls are folded in a loop of
    their own with its averages in local variables, and the alerts are put back in call order at
    the end (the fired times too, so the state's dict has the order ``step`` gives it). A
    condition's key, subject, alert and :class:`Call` are built only when a call passes its
    thresholds (most calls fire nothing). ``tests/stream_processors/alerts/test_anomaly.py``
    checks ``fold == repeated step`` on random runs.
    """
    batch = as_batch(calls)
    if not len(batch):
        return state, []
    known, fired = state.models, state.fired
    raised: list[tuple[int, int, str, float, Alert]] = []  # (call index, 0 cost or 1 latency, condition, ts, alert)
    models = dict(known)
    for model, indices in _by_model(batch.model).items():
        models[model] = _fold_model(batch, model, indices, known.get(model), fired, rules, raised)
    if not raised:
        return AnomalyState(models, fired), []
    raised.sort(key=lambda r: (r[0], r[1]))
    fired = dict(fired)
    for _, _, condition, ts, _ in raised:
        fired[condition] = ts
    return AnomalyState(models, fired), [r[4] for r in raised]


def _by_model(models: list[str]) -> dict[str, list[int] | None]:
    """The indices of each model's calls (``None``: every call), models in order of first call."""
    if models.count(models[0]) == len(models):
        return {models[0]: None}
    groups: dict[str, list[int] | None] = {}
    for i, model in enumerate(models):
        groups.setdefault(model, []).append(i)  # type: ignore[union-attr]
    return groups


def _fold_model(batch: CallBatch, model: str, indices: list[int] | None, base: Baseline | None,
                fired: dict[str, float], rules: AlertRules, raised: list) -> Baseline:
    """One model's calls folded into its averages; what they raise is appended to ``raised``."""
    alpha, min_history, min_excess = rules.ewma_alpha, rules.min_history, rules.latency_min_excess_ms
    cost_factor, latency_factor, cooldown = rules.cost_factor, rules.latency_factor, rules.cooldown_seconds
    cost_n, cost_avg, latency_n, latency_avg = (0, 0.0, 0, 0.0) if base is None else (
        base.cost_n, base.cost_avg, base.latency_n, base.latency_avg)
    fired_now: dict[str, float] = {}  # conditions this run fired, and when

    def cooled(condition: str, i: int) -> float | None:
        """The call's time if ``condition`` is out of its cool-down at call ``i``, else ``None``."""
        ts = batch.occurred_at[i].timestamp()
        last = fired_now.get(condition, fired.get(condition))
        if last is None or ts - last >= cooldown:
            fired_now[condition] = ts
            return ts
        return None

    pick = picker(indices)
    rows = zip(range(len(batch)) if indices is None else indices, pick(batch.priced), pick(batch.cost_floats()),
               pick(batch.success), pick(batch.latency_ms))
    for i, priced, cost, success, latency in rows:
        if not priced:
            condition = f"unpriced|{batch.provider[i]}|{model}"
            ts = cooled(condition, i)
            if ts is not None:
                raised.append((i, 0, condition, ts, _unpriced_alert(batch.call(i), ts, rules)))
        elif cost is not None:
            if cost_n >= min_history and cost_avg > 0 and cost > cost_factor * cost_avg:
                condition = f"cost|{model}"
                ts = cooled(condition, i)
                if ts is not None:
                    raised.append((i, 0, condition, ts, _cost_alert(batch.call(i), cost, cost_n, cost_avg, ts, rules)))
            weight = 1.0 / (cost_n + 1)  # _rolling: max(alpha, 1 / (n + 1))
            cost_n += 1
            cost_avg += (cost - cost_avg) * (weight if weight > alpha else alpha)
        if success:
            if (latency_n >= min_history and latency_avg > 0 and latency > latency_factor * latency_avg
                    and latency - latency_avg >= min_excess):
                condition = f"latency|{model}"
                ts = cooled(condition, i)
                if ts is not None:
                    raised.append((i, 1, condition, ts,
                                   _latency_alert(batch.call(i), latency_n, latency_avg, ts, rules)))
            weight = 1.0 / (latency_n + 1)
            latency_n += 1
            latency_avg += (latency - latency_avg) * (weight if weight > alpha else alpha)
    return Baseline(cost_n, cost_avg, latency_n, latency_avg)


def check_error_rate(state: AnomalyState, prompt_type: str, window: Totals, now: datetime,
                     rules: AlertRules) -> tuple[AnomalyState, Alert | None]:
    """An error-rate alert when the window's rate reaches the threshold (outside the cool-down)."""
    if window.calls < rules.error_min_calls:
        return state, None
    rate = window.errors / window.calls
    ts = now.astimezone(timezone.utc).timestamp()
    if rate < rules.error_rate or _cooling(state, "error_rate", ts, rules):
        return state, None
    minutes = rules.error_window_seconds // 60
    alert = _alert(
        AlertKind.ERROR_RATE, Severity.CRITICAL if rate >= 0.5 else Severity.WARNING, f"prompt_type={prompt_type}",
        ts, rules, f"{rate:.0%} of the last {window.calls} calls in {minutes} min failed",
        {"error_rate": round(rate, 4), "errors": window.errors, "calls": window.calls,
         "window_seconds": rules.error_window_seconds, "threshold": rules.error_rate}, now)
    return replace(state, fired={**state.fired, "error_rate": ts}), alert


def prune(state: AnomalyState, now_ts: float, rules: AlertRules) -> AnomalyState:
    """Forget fired conditions whose cool-down has passed (keeps the state small)."""
    fired = {k: t for k, t in state.fired.items() if now_ts - t < rules.cooldown_seconds}
    return state if len(fired) == len(state.fired) else replace(state, fired=fired)
