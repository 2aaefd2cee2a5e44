"""Posting alerts to webhooks with httpx: retries with exponential backoff, and a circuit per URL.

A post succeeds on any 2xx. Anything else (connection refused, timeout, 5xx, 4xx) is retried up
to ``max_attempts`` times, waiting ``backoff_seconds * 2**n`` (capped at ``backoff_max_seconds``)
between tries. A URL whose retries are exhausted is marked down: later alerts skip it at once
(they are parked for it) until a redelivery to it succeeds, so a dead webhook costs one retry
budget, not one per alert. Every wait is on ``stop`` so shutdown is prompt.

The body is the alert's JSON; headers carry ``X-Ailedger-Alert-Id`` (the stable id) so receivers
can drop a repeat (delivery is at least once).
"""

from __future__ import annotations

import logging
import threading

import httpx

from schemas.alerts import Alert
from schemas.codec import dumps

log = logging.getLogger(__name__)


class WebhookPoster:
    def __init__(self, urls: list[str], *, max_attempts: int = 5, backoff_seconds: float = 0.5,
                 backoff_max_seconds: float = 8.0, timeout_seconds: float = 5.0, stop: threading.Event | None = None,
                 client: httpx.Client | None = None):
        self.urls = list(urls)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.stop = stop or threading.Event()
        self.client = client or httpx.Client(timeout=timeout_seconds)
        self.down: set[str] = set()
        self.posts = 0
        self.failures = 0

    def post_once(self, url: str, alert: Alert) -> str | None:
        """One attempt; ``None`` on success, else the reason."""
        self.posts += 1
        try:
            response = self.client.post(url, content=dumps(alert), headers={
                "content-type": "application/json", "x-ailedger-alert-id": alert.alert_id,
                "x-ailedger-alert-kind": alert.kind.value})
        except httpx.HTTPError as exc:
            self.failures += 1
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        self.failures += 1
        return f"HTTP {response.status_code}"

    def post(self, url: str, alert: Alert, attempts: int | None = None) -> tuple[bool, int, str]:
        """Retry with backoff; ``(delivered, attempts made, last error)``."""
        attempts = attempts or self.max_attempts
        error = ""
        for n in range(attempts):
            if n:
                delay = min(self.backoff_seconds * 2 ** (n - 1), self.backoff_max_seconds)
                if self.stop.wait(delay):
                    return False, n, error or "stopped"
            reason = self.post_once(url, alert)
            if reason is None:
                self.down.discard(url)
                return True, n + 1, ""
            error = reason
            log.info("webhook %s refused alert %s (attempt %d/%d): %s", url, alert.alert_id, n + 1, attempts, reason)
        self.down.add(url)
        log.warning("webhook %s is down after %d attempts (%s); parking its alerts", url, attempts, error)
        return False, attempts, error

    def deliver(self, alert: Alert, urls: list[str] | None = None) -> tuple[list[str], int, str]:
        """Post to ``urls`` (default: all); returns the URLs still pending, attempts and last error.
        URLs marked down are not tried (left pending)."""
        pending, total, last_error = [], 0, ""
        for url in self.urls if urls is None else urls:
            if url in self.down or self.stop.is_set():
                pending.append(url)
                continue
            ok, attempts, error = self.post(url, alert)
            total += attempts
            if not ok:
                pending.append(url)
                last_error = error
        return pending, total, last_error

    def close(self) -> None:
        self.client.close()
