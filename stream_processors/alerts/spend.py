"""The account stage: monthly spend per account and per user, each in one owner.

The costed stage sends the priced spend of each costed message, summed per (account, user,
month), to the spend topic at the partition ``partition_for(account, n)``; so every update of an
account's (and its users') totals is made by the one worker owning that partition, in order
(lessons-from-peers #6: no check-then-increment race between clients). One spend message carries
the entries of many costed messages (one send per spend partition per run of messages)::

    {"entries": [[costed_partition, costed_offset, account, user, month, usd, at, event_id], ...]}

``apply_message`` is pure. The replay guard is each entry's costed position: an entry sent again
(the costed stage replaying after a crash, possibly grouped differently) or read again (this
stage replaying) is applied once, and so is an entry that one spend message carries twice (a
costed message read twice within one run of the costed stage, after a seek back).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable

from schemas.alerts import Alert
from schemas.prompt_config import Budget, budget_key
from stream_processors.alerts.budgets import SpendState, add_spend


def partition_for(account_id: str, partitions: int) -> int:
    """The spend-topic partition of an account (stable across processes and restarts)."""
    return zlib.crc32(account_id.encode()) % partitions


def split_by_partition(entries: list[list[Any]], partitions: int) -> dict[int, list[list[Any]]]:
    """Entries (``[costed partition, costed offset, account, ...]``) by spend partition."""
    out: dict[int, list[list[Any]]] = defaultdict(list)
    for entry in entries:
        out[partition_for(entry[2], partitions)].append(entry)
    return out


@lru_cache(maxsize=100_000)
def subject_keys(account: str, user: str) -> tuple[str, ...]:
    """The spend keys an entry of ``account`` and ``user`` adds to: the account's, and the user's
    if there is one. Cached: each spend message names the same few thousand pairs again, and a
    user's key costs a JSON encoding (~2.3 µs; each entry asks three times)."""
    account_key = budget_key("account", account_id=account)
    return (account_key, budget_key("user", account_id=account, user_id=user)) if user else (account_key,)


def apply_message(states: dict[str, SpendState | None], message: dict[str, Any],
                  budget_for: Callable[[str], Budget | None]) -> tuple[dict[str, SpendState], list[Alert]]:
    """New values for every subject of the message (unchanged ones too: they are written again)
    and the threshold alerts. ``states`` holds the current value of each of ``keys_of(message)``."""
    # key -> costed partition -> month -> [amount, latest time, its event id, highest offset]
    grouped: dict[str, dict[int, dict[str, list[Any]]]] = defaultdict(lambda: defaultdict(dict))
    counted: set[tuple[Any, ...]] = set()
    for partition, offset, account, user, month, usd, at, event_id in message["entries"]:
        identity = (int(partition), int(offset), account, user, month)
        if identity in counted:
            continue  # one costed message forwarded twice in one run (read twice after a seek back)
        counted.add(identity)
        when = datetime.fromisoformat(at)
        for key in subject_keys(account, user):
            state = states.get(key)
            if state is not None and state.applied.get(f"c{partition}", -1) >= int(offset):
                continue  # applied before this message
            slot = grouped[key][int(partition)].setdefault(month, [Decimal(0), when, event_id, -1])
            slot[0] += Decimal(usd)
            if when >= slot[1]:
                slot[1], slot[2] = when, event_id
            slot[3] = max(slot[3], int(offset))
    out: dict[str, SpendState] = {}
    alerts: list[Alert] = []
    for key in keys_of(message):
        state = states.get(key) or SpendState(key=key)
        budget = budget_for(key)
        applied = dict(state.applied)
        for partition, months in grouped.get(key, {}).items():
            for month in sorted(months):
                amount, when, event_id, offset = months[month]
                state, raised = add_spend(state, key, month, amount, budget, when, event_id)
                alerts += raised
                applied[f"c{partition}"] = max(applied.get(f"c{partition}", -1), offset)
        out[key] = state.model_copy(update={"applied": applied}) if applied != state.applied else state
    return out, alerts


def keys_of(message: dict[str, Any]) -> list[str]:
    keys: dict[str, None] = {}
    for _, _, account, user, *_ in message["entries"]:
        for key in subject_keys(account, user):
            keys[key] = None
    return list(keys)

