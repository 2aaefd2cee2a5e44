"""Calls stored unpriced are priced once a price for them is known, with no operator step.

A call of a model the catalog does not know is stored unpriced (cost ``NULL``, never $0) and
raises an alert. Once a price arrives (an override through ``PUT /v1/pricing`` or the pricing
topic, a pricing file, a newer genai-prices), every ``AILEDGER_AUTO_REPAIR_SECONDS`` (default 60;
0 turns it off) the serve process:

1. reads the hours with unpriced calls in the last ``AILEDGER_AUTO_REPAIR_DAYS`` from the hourly
   rollup (exact after every re-rating: it sums the differences; a small table, no ``FINAL``);
2. loads the current catalog (pricing file and the pricing topic, as the worker and a replay do)
   and keeps the hours whose model it now prices at the hour's start or end (:func:`plan_repair`);
3. runs a ``repair`` replay (``stream_processors.replay``) from an hour before the first such
   hour to the end of the last: the sink stores only the calls that were missing or are now
   priced, the live statistics count none of them again (the replay names their raw positions).

An hour is not tried again while its unpriced count and the price versions found for it stay the
same, so calls that remain unpriced (before an override's ``effective_from``) are not replayed
every round; calls unpriced since (a worker that had not yet read the price) change the count.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from ailedger.settings import ApiSettings, PricingSettings, WorkerSettings
from consumers.clickhouse.store import Store

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
_LAST_MICROSECOND = HOUR - timedelta(microseconds=1)

UNPRICED_HOURS = """
SELECT provider, model, hour, toInt64(sum(calls)) - sum(priced_calls) AS unpriced
FROM ai_calls_hourly
WHERE hour >= {since:DateTime}
GROUP BY provider, model, hour
HAVING unpriced > 0
ORDER BY hour
"""

#: (provider, model, hour) -> (price versions found for it, unpriced calls) when last tried
Attempts = dict[tuple[str, str, datetime], tuple[tuple[str, ...], int]]


@dataclass(frozen=True)
class RepairPlan:
    """The event-time range a repair replays, and the hours (with their signature) it covers."""

    start: datetime
    end: datetime
    hours: Attempts
    unpriced: int


def plan_repair(rows: Iterable[tuple[str, str, datetime, int]], catalog: Any, attempted: Attempts) -> RepairPlan | None:
    """The repair due for ``(provider, model, hour, unpriced calls)`` rows, or ``None``: hours whose
    model ``catalog`` now prices, at the hour's first or last microsecond, and that were not
    tried with the same price versions and unpriced count."""
    due: Attempts = {}
    for provider, model, hour, unpriced in rows:
        if hour.tzinfo is None:
            hour = hour.replace(tzinfo=timezone.utc)
        sheets = (catalog.resolve(provider, model, hour), catalog.resolve(provider, model, hour + _LAST_MICROSECOND))
        versions = tuple(sorted({s.version for s in sheets if s is not None}))
        key, signature = (provider, model, hour), (versions, int(unpriced))
        if versions and attempted.get(key) != signature:
            due[key] = signature
    if not due:
        return None
    hours = [hour for _, _, hour in due]
    return RepairPlan(min(hours), max(hours) + HOUR, due, sum(n for _, n in due.values()))


def replay_settings(settings: ApiSettings) -> WorkerSettings:
    """What a replay needs, from the serve process's settings (the same ``AILEDGER_*`` names)."""
    return WorkerSettings(**settings.model_dump(include=set(PricingSettings.model_fields)))


def repair_once(settings: ApiSettings, store: Store, attempted: Attempts, now: datetime | None = None):
    """One round: the replay's result if a repair was due (``attempted`` then holds its hours)."""
    from stream_processors.pricing import load_catalog
    from stream_processors.pricing_feed import load_pricing_topic
    from stream_processors.replay import replay

    since = (now or datetime.now(timezone.utc)) - timedelta(days=settings.auto_repair_days)
    _, rows = store.rows(UNPRICED_HOURS, {"since": since.replace(tzinfo=None, microsecond=0)})
    if not rows:
        return None  # every call is priced: no pricing-topic read (3-4 instead of 11-13 ms a round)
    worker = replay_settings(settings)
    catalog = load_catalog(worker.pricing_file)
    load_pricing_topic(worker, catalog)
    plan = plan_repair(rows, catalog, attempted)
    if plan is None:
        return None
    log.info("auto-repair: %d unpriced calls in %d hours now have a price; replaying %s .. %s",
             plan.unpriced, len(plan.hours), plan.start.isoformat(), plan.end.isoformat())
    # An hour early: a raw message replayed in part (calls before the range) ends the replay's
    # naming of raw positions in its partition (stream_processors.replay._SourceNames), and
    # messages near the live edge would then be counted twice by the live statistics.
    result = replay(worker, plan.start - HOUR, plan.end, mode="repair")
    attempted.update(plan.hours)
    log.info("auto-repair: re-emitted %d calls (%d still unpriced)", result.emitted, result.unpriced)
    return result


def run_auto_repair(settings: ApiSettings, store: Store, stop: threading.Event) -> None:
    """Repair rounds every ``auto_repair_seconds`` until ``stop``; a failed round is logged and
    the next one tries again (a broker or ClickHouse that is away for a while stops nothing)."""
    attempted: Attempts = {}
    while not stop.wait(settings.auto_repair_seconds):
        try:
            repair_once(settings, store, attempted)
        except Exception:  # noqa: BLE001 - the next round retries; the sinks must keep running
            log.exception("auto-repair round failed; trying again in %.0f s", settings.auto_repair_seconds)
