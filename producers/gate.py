"""Validation at the publisher's door: valid events become dicts, invalid ones dead letters."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from producers.spool import Spool
from producers.stats import Stats
from schemas.codec import describe_validation_error, dumps, event_to_dict
from schemas.events import AICallEvent

log = logging.getLogger(__name__)


class Gate:
    """Never raises: an invalid event is logged (the first ten, then every thousandth), counted
    in ``stats.rejected`` and written to the spool's ``rejects.jsonl``."""

    def __init__(self, spool: Spool, stats: Stats) -> None:
        self.spool = spool
        self.stats = stats

    def validate(self, item: dict[str, Any] | AICallEvent) -> dict[str, Any] | None:
        try:
            event = item if isinstance(item, AICallEvent) else AICallEvent.model_validate(item)
            return event_to_dict(event)
        except ValidationError as exc:
            self.reject(item, describe_validation_error(exc))
        except Exception as exc:  # noqa: BLE001 - a bad field must never reach the caller
            self.reject(item, f"{type(exc).__name__}: {exc}")
        return None

    def reject(self, item: Any, reason: str, stage: str = "track") -> None:
        self.stats.rejected += 1
        if self.stats.rejected <= 10 or self.stats.rejected % 1000 == 0:
            log.warning("ailedger dropped an invalid event (%d so far): %s", self.stats.rejected, reason)
        event_id = item.get("event_id") if isinstance(item, dict) else None
        try:
            raw = dumps(item) if isinstance(item, dict) else repr(item)
            self.spool.reject(stage, reason, raw, event_id=None if event_id is None else str(event_id))
        except Exception:  # noqa: BLE001
            log.exception("ailedger: could not write the reject file")
