"""Bookkeeping of messages handed to the producer and not yet acknowledged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from producers.spool import SpoolChunk
from producers.wire import OutMessage


@dataclass
class Flight:
    """A directly sent message and its kafka-python future."""

    message: OutMessage
    future: Any
    sent_at: float


@dataclass
class Outcome:
    acked: int = 0
    failed: list[tuple[int, BaseException | None]] = field(default_factory=list)
    stalled: bool = False


class SpoolFlight:
    """A spool chunk being re-sent. Each message is sent until acknowledged and never again after
    that, so a partial failure re-sends only the messages that failed; the chunk is acknowledged
    in the spool when every message is in (or refused for good)."""

    def __init__(self, chunk: SpoolChunk, messages: list[OutMessage]) -> None:
        self.chunk = chunk
        self.messages = messages
        self.futures: list[Any] = [None] * len(messages)
        self.sent_at = [0.0] * len(messages)
        self.done = [False] * len(messages)

    @property
    def unsent(self) -> bool:
        return any(f is None and not d for f, d in zip(self.futures, self.done))

    @property
    def complete(self) -> bool:
        return all(self.done)

    def send_unsent(self, send: Callable[[OutMessage], Any], now: float = 0.0) -> None:
        """Send every message that is neither in flight nor done; stops at the first error."""
        for index, message in enumerate(self.messages):
            if self.futures[index] is None and not self.done[index]:
                self.futures[index] = send(message)
                self.sent_at[index] = now

    def settle(self, now: float, ack_timeout: float) -> Outcome:
        """Take the finished futures: acknowledged messages are done, failed ones wait to be re-sent."""
        outcome = Outcome()
        for index, future in enumerate(self.futures):
            if future is None:
                continue
            if not future.is_done:
                if self.sent_at[index] and now - self.sent_at[index] > ack_timeout:
                    outcome.stalled = True
                continue
            self.futures[index] = None
            if future.succeeded():
                self.done[index] = True
                outcome.acked += self.messages[index].count
            else:
                outcome.failed.append((index, future.exception))
        return outcome

    def give_up(self, index: int) -> None:
        """The broker refused this message for good (it was dead-lettered): stop re-sending it."""
        self.done[index] = True
