"""Dead letters (type ``ai.dead-letter.v1``): a message or event that could not be processed."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEAD_LETTER_TYPE = "ai.dead-letter.v1"


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ai.dead-letter.v1"] = DEAD_LETTER_TYPE
    stage: str = Field(description="Where it failed: ingest, decode, validate, price, sink, ...")
    reason: str
    raw_b64: str = Field(description="The raw bytes of the failing message or event, base64.")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    event_id: str | None = None
    failed_at: datetime

    @classmethod
    def of(
        cls,
        stage: str,
        reason: str,
        raw: bytes | str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        event_id: str | None = None,
    ) -> "DeadLetter":
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
        return cls(
            stage=stage,
            reason=reason[:4000],
            raw_b64=base64.b64encode(data).decode("ascii"),
            topic=topic,
            partition=partition,
            offset=offset,
            event_id=event_id,
            failed_at=datetime.now(timezone.utc),
        )

    @property
    def raw(self) -> bytes:
        return base64.b64decode(self.raw_b64)
