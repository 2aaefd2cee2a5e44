"""The account stage: monthly spend per account and per user, each in one owner.

The costed stage sends, per costed message, the priced spend summed per (account, user, month)
to the spend topic, to the partition ``partition_for(account, n)``; so every update of an
account's (and its users') totals is made by the one worker owning that partition, in order
(lessons-from-peers #6: no check-then-increment race between clients). A spend message is::

    {"src": [costed_partition, costed_offset], "spend": [[account, user, month, usd, at, event_id], ...]}

``apply_message`` is pure. The replay guard is the costed position: a spend message sent again
(the costed stage replaying after a crash) or read again (this stage replaying) is applied once.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from schemas.alerts import Alert
from schemas.prompt_config import Budget, budget_key
from stream_processors.alerts.budgets import SpendState, add_spend


def partition_for(account_id: str, partitions: int) -> int:
    """The spend-topic partition of an account (stable across processes and restarts)."""
    return zlib.crc32(account_id.encode()) % partitions


def split_by_partition(entries: list[list[Any]], partitions: int) -> dict[int, list[list[Any]]]:
    out: dict[int, list[list[Any]]] = defaultdict(list)
    for entry in entries:
        out[partition_for(entry[0], partitions)].append(entry)
    return out


def subject_keys(account: str, user: str) -> list[str]:
    keys = [budget_key("account", account_id=account)]
    if user:
        keys.append(budget_key("user", account_id=account, user_id=user))
    return keys


def apply_message(states: dict[str, SpendState | None], message: dict[str, Any],
                  budget_for: Callable[[str], Budget | None]) -> tuple[dict[str, SpendState], list[Alert]]:
    """New values for every subject of the message (unchanged ones too: they are written again)
    and the threshold alerts. ``states`` holds the current value of each of ``keys_of(message)``."""
    partition, offset = (int(x) for x in message["src"])
    source = f"c{partition}"
    # key -> month -> [amount, latest time, its event id]
    grouped: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for account, user, month, usd, at, event_id in message["spend"]:
        when = datetime.fromisoformat(at)
        for key in subject_keys(account, user):
            slot = grouped[key].setdefault(month, [Decimal(0), when, event_id])
            slot[0] += Decimal(usd)
            if when >= slot[1]:
                slot[1], slot[2] = when, event_id
    out: dict[str, SpendState] = {}
    alerts: list[Alert] = []
    for key, months in grouped.items():
        state = states.get(key) or SpendState(key=key)
        if state.applied.get(source, -1) >= offset:
            out[key] = state
            continue
        budget = budget_for(key)
        for month in sorted(months):
            amount, when, event_id = months[month]
            state, raised = add_spend(state, key, month, amount, budget, when, event_id)
            alerts += raised
        out[key] = state.model_copy(update={"applied": {**state.applied, source: offset}})
    return out, alerts


def keys_of(message: dict[str, Any]) -> list[str]:
    keys: dict[str, None] = {}
    for account, user, *_ in message["spend"]:
        for key in subject_keys(account, user):
            keys[key] = None
    return list(keys)

