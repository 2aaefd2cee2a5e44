"""The wire contract of the raw topic: how buffered events become Kafka messages.

A message is ``schemas.codec.encode_batch(events)`` of up to ``batch_events`` events of ONE
account, keyed by that ``account_id``, with headers ``content-type``, ``ailedger-type``,
``ailedger-count`` and ``ailedger-sdk``. Each event keeps its client-made ``event_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from schemas.codec import BATCH_TYPE, encode_batch
from producers.config import SDK_NAME

STATIC_HEADERS = [
    ("content-type", b"application/json"),
    ("ailedger-type", BATCH_TYPE.encode()),
]
SDK_HEADER = ("ailedger-sdk", SDK_NAME.encode())


@dataclass
class OutMessage:
    """One Kafka message ready to send, with the events it carries (for retries and spooling)."""

    key: bytes
    value: bytes
    events: list[dict[str, Any]] = field(repr=False)

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [*STATIC_HEADERS, ("ailedger-count", str(len(self.events)).encode()), SDK_HEADER]

    @property
    def event_ids(self) -> list[str]:
        return [str(e.get("event_id")) for e in self.events]


def group_by_account(events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Events per ``account_id``, each list in arrival order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault(str(event.get("account_id", "")), []).append(event)
    return groups


def pack_account(account_id: str, events: list[dict[str, Any]], batch_events: int,
                 max_bytes: int) -> list[OutMessage]:
    """Messages for one account's events: ``batch_events`` per message, halved until each
    encoded message fits ``max_bytes`` (a single oversized event is still sent alone)."""
    key = account_id.encode()
    out: list[OutMessage] = []
    for start in range(0, len(events), batch_events):
        _pack_fitting(key, events[start:start + batch_events], max_bytes, out)
    return out


def _pack_fitting(key: bytes, chunk: list[dict[str, Any]], max_bytes: int, out: list[OutMessage]) -> None:
    value = encode_batch(chunk)
    if len(value) <= max_bytes or len(chunk) == 1:
        out.append(OutMessage(key, value, chunk))
        return
    middle = len(chunk) // 2
    _pack_fitting(key, chunk[:middle], max_bytes, out)
    _pack_fitting(key, chunk[middle:], max_bytes, out)


def pack(events: Iterable[dict[str, Any]], batch_events: int, max_bytes: int) -> list[OutMessage]:
    """Messages for any events: grouped per account, then packed."""
    out: list[OutMessage] = []
    for account_id, group in group_by_account(events).items():
        out.extend(pack_account(account_id, group, batch_events, max_bytes))
    return out
