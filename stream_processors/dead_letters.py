"""Dead-lettering inside Faust agents.

Faust acks a message whose handler raised, so an exception would silently lose the message.
Agents therefore catch per event (and per message, for bugs) and send a :class:`DeadLetter`
with the stage, the reason, the raw bytes and the message's topic/partition/offset. Failures of
the infrastructure itself (the broker refusing a send) are not caught: they stop the worker. A
dead letter is a run's output like any other: the run is acked only once the broker has it
(:mod:`stream_processors.delivery`).
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from schemas.codec import dumps
from schemas.dead_letter import DeadLetter
from stream_processors import delivery

log = logging.getLogger(__name__)


class DeadLetterSender:
    """Sends dead letters for one agent stage to the DLQ topic."""

    def __init__(self, dlq_topic: faust.TopicT, stage: str):
        self.topic = dlq_topic
        self.stage = stage
        self.sent = 0

    async def send(self, reason: str, raw: bytes | str | Any, message: Any = None, event_id: str | None = None,
                   stage: str | None = None) -> None:
        if not isinstance(raw, (bytes, str)):
            raw = dumps(raw)
        letter = DeadLetter.of(
            stage or self.stage,
            reason,
            raw,
            topic=getattr(message, "topic", None),
            partition=getattr(message, "partition", None),
            offset=getattr(message, "offset", None),
            event_id=event_id,
        )
        self.sent += 1
        log.warning("dead letter (%s): %s", letter.stage, letter.reason)
        await delivery.send(self.topic, key=(event_id or "").encode() or None, value=dumps(letter))
