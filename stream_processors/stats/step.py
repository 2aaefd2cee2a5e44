"""Costed messages of one prompt type, decided purely: what every value, alert and output becomes.

A costed message carries calls of one prompt type. ``plan(...)`` takes the prompt type's state,
the daily rows the messages touch and the messages' calls and positions, and returns the new
values and the outputs; the agent only reads and writes tables and sends. The prompt-type value
holds the statistics, the anomaly averages and the prompt type's budget spend together, so a
run of messages costs one read and one write of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

import orjson

from schemas.alerts import Alert
from schemas.prompt_config import Budget, budget_key
from schemas.stats import DailyUsage, LatestCall
from stream_processors.alerts import anomaly, budgets
from stream_processors.alerts.rules import AlertRules
from stream_processors.stats import daily, guard, prompt_stats, snapshot
from stream_processors.stats.batch import CallBatch, Calls, as_batch
from stream_processors.stats.guard import Decision, Position


@dataclass(frozen=True, slots=True)
class PromptTypeState:
    stats: prompt_stats.PromptTypeStats
    anomaly: anomaly.AnomalyState
    spend: budgets.SpendState
    applied: dict[str, int]

    def to_wire(self) -> dict[str, Any]:
        return {"stats": prompt_stats.to_wire(self.stats), "anomaly": self.anomaly.to_wire(),
                "spend": self.spend.model_dump(mode="json"), "applied": self.applied}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> "PromptTypeState":
        return cls(stats=prompt_stats.from_wire(wire["stats"]),
                   anomaly=anomaly.AnomalyState.from_wire(wire["anomaly"]),
                   spend=budgets.SpendState.model_validate(wire["spend"]),
                   applied={str(k): int(v) for k, v in wire["applied"].items()})


Message = tuple[Position, Calls]  # a CallBatch, or a sequence of Call (tests)


@dataclass
class Plan:
    decision: Decision  # "apply" if any message was new, else "replay", else "duplicate"
    state: PromptTypeState | None  # the value to write (again), None if there is none
    new_prompt_type: bool = False
    daily: dict[daily.DayKey, DailyUsage] = field(default_factory=dict)  # every row to write (again)
    snapshot: LatestCall | None = None
    alerts: list[Alert] = field(default_factory=list)
    #: [costed partition, costed offset, account, user, month, usd, at, event_id] for the account stage
    spend: list[list[Any]] = field(default_factory=list)
    decisions: Counter = field(default_factory=Counter)
    #: raw segments (partition, offset, calls) not counted again: the value had counted them before
    skipped: list[guard.Segment] = field(default_factory=list)


ZERO = Decimal(0)


def spend_entries(calls: Calls) -> list[list[Any]]:
    """Priced spend of the calls summed per (account, user, month), for the account stage."""
    batch = as_batch(calls)
    sums: dict[tuple[str, str, str], list[Any]] = {}  # key -> [usd, latest time, its event id]
    columns = zip(batch.priced, batch.account_id, batch.user_id, batch.months(), batch.occurred_at,
                  batch.cost_usd, batch.event_id)
    for priced, account, user, month, at, cost, event_id in columns:
        if not priced:
            continue
        key = (account, user or "", month)
        entry = sums.get(key)
        if entry is None:
            sums[key] = [ZERO + cost, at, event_id]  # ZERO + : as sum() from 0 would
        else:
            entry[0] += cost
            if at >= entry[1]:
                entry[1], entry[2] = at, event_id
    return [[a, u, m, str(usd), at.isoformat(), ev] for (a, u, m), (usd, at, ev) in sums.items()]


def _budget_spend(state: budgets.SpendState, batch: CallBatch, budget: Budget | None,
                  ) -> tuple[budgets.SpendState, list[Alert]]:
    alerts: list[Alert] = []
    times = batch.occurred_at
    by_month: dict[str, list[Any]] = {}  # month -> [its spend, its latest call's index (the last of equals)]
    for i, (priced, month, cost) in enumerate(zip(batch.priced, batch.months(), batch.cost_usd)):
        if priced:
            entry = by_month.get(month)
            if entry is None:
                by_month[month] = [ZERO + cost, i]
            else:
                entry[0] += cost
                if times[i] >= times[entry[1]]:
                    entry[1] = i
    for month in sorted(by_month):
        amount, last = by_month[month]
        state, raised = budgets.add_spend(state, state.key, month, amount, budget, times[last], batch.event_id[last])
        alerts += raised
    if not by_month:  # a budget changed since the last priced call: report where the spend stands
        state, raised = budgets.check(state, budget, max(times)) if times else (state, [])
        alerts += raised
    return state, alerts


def plan(state: PromptTypeState | None, rows: dict[daily.DayKey, DailyUsage | None],
         messages: Sequence[Message], now: datetime, rules: AlertRules, budget: Budget | None = None) -> Plan:
    """Everything a run of costed messages of one prompt type changes (the agent takes several
    messages at a time: each value is then written once per run, not once per message).

    ``messages`` are ``(position, calls)`` in offset order; ``rows`` holds the current value of
    every daily key their calls touch (``None`` when absent). Each message is decided on its own
    against the prompt type's guard: applied (less any calls an upstream replay sent before),
    replayed (already in the state: only the values that missed it are updated, its spend is
    forwarded again) or an upstream duplicate (ignored).
    A position the run holds twice (the consumer sought back while the run was buffered) counts once.
    """
    out = Plan("apply", state, new_prompt_type=state is None)
    applied = dict(state.applied) if state is not None else {}
    fresh: list[CallBatch] = []
    kept: list[tuple[Position, CallBatch]] = []
    positions: set[tuple[int, int]] = set()
    for pos, calls in messages:
        if (pos.partition, pos.offset) in positions:  # read twice in one run (a seek back): once is enough
            out.decisions["replay"] += 1
            continue
        positions.add((pos.partition, pos.offset))
        batch = as_batch(calls)
        decision = guard.decide(applied, pos)
        if decision != "replay":
            out.skipped += guard.counted_before(applied, pos)
        if decision == "apply":  # less the calls a pricing replay sent before
            indices = guard.fresh_indices(applied, pos, len(batch))
            if indices is not None:
                batch = batch.take(indices)
        out.decisions[decision] += 1
        applied = guard.mark(applied, pos)
        if decision == "duplicate":
            continue
        kept.append((pos, batch))
        if decision == "apply" and len(batch):
            fresh.append(batch)
        out.spend += [[pos.partition, pos.offset, *entry] for entry in spend_entries(batch)]
    out.decision = "apply" if fresh else ("replay" if kept else "duplicate")

    current = dict(rows)
    for pos, batch in kept:
        for key, usage in daily.usage_by_key(batch).items():
            row = current.get(key)
            if row is None or not guard.seen(row.applied_offset, pos):
                current[key] = daily.add(row, key, usage, pos.offset)
            out.daily[key] = current[key]  # type: ignore[assignment]

    seen = [batch for _, batch in kept if len(batch)]
    if seen:
        last = snapshot.latest(seen)
        if state is None or snapshot.replaces(state.stats.last_call_at, last) or out.decision == "replay":
            out.snapshot = snapshot.snapshot_of(last)
    if not fresh:
        out.state = None if state is None else replace(state, applied=applied)
        return out

    calls = CallBatch.concat(fresh)
    prompt_type = calls.prompt_type[0]
    if state is None:
        state = PromptTypeState(prompt_type_stats_empty(prompt_type), anomaly.AnomalyState(),
                                budgets.SpendState(key=budget_key("prompt_type", prompt_type=prompt_type)), {})
    found, raised_spikes = anomaly.fold(state.anomaly, calls, rules)
    out.alerts += raised_spikes
    stats = prompt_stats.update(state.stats, calls, now)
    window = prompt_stats.window_totals(stats, now, rules.error_window_seconds)
    found, raised_rate = anomaly.check_error_rate(found, prompt_type, window, now, rules)
    if raised_rate is not None:
        out.alerts.append(raised_rate)
    spend, raised_budget = _budget_spend(state.spend, calls, budget)
    out.alerts += raised_budget
    latest_ts = max(calls.occurred_at).timestamp()  # event time, like the cool-downs
    out.state = PromptTypeState(stats, anomaly.prune(found, latest_ts, rules), spend, applied)
    return out


def stats_message(state: bytes, snapshot: bytes | None, published_at: datetime) -> bytes:
    """The ``ai.prompt-stats.v1`` value: the prompt type's stored value (as stored) and latest call."""
    return (b'{"state":' + state + b',"snapshot":' + (snapshot or b"null") + b',"published_at":'
            + orjson.dumps(published_at.isoformat()) + b"}")


def prompt_type_stats_empty(prompt_type: str) -> prompt_stats.PromptTypeStats:
    return prompt_stats.PromptTypeStats(prompt_type=prompt_type)
