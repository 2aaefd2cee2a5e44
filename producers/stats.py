"""Counters of what the SDK did with the events it was given."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Stats:
    """Plain counters (increments from several caller threads may race: approximate there)."""

    tracked: int = 0
    acked: int = 0
    spooled: int = 0
    rejected: int = 0
    dropped: int = 0
    send_failures: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
