"""Whether the broker is worth trying now: after a failure it is 'down' for a back-off period
that doubles while failures go on and resets on the first acknowledgement."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class BrokerHealth:
    def __init__(self, first_backoff_s: float, max_backoff_s: float = 10.0, where: str = "") -> None:
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max(first_backoff_s, max_backoff_s)
        self.where = where
        self._backoff = first_backoff_s
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def failed(self, reason: str) -> None:
        """Route new events to the spool for the current back-off (no-op while already down)."""
        if self.down:
            return
        log.warning("ailedger: broker unavailable (%s); spooling to %s", reason, self.where)
        self._down_until = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.max_backoff_s)

    def ok(self) -> None:
        self._down_until = 0.0
        self._backoff = self.first_backoff_s
