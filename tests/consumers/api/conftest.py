from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from consumers.api.app import create_app
from tests.consumers.reports.seeding import call, insert_calls

LOOPBACK = ("127.0.0.1", 50000)
T = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


class Recorder:
    """A publisher that keeps what it was given (Kafka is exercised in test_ratings)."""

    def __init__(self):
        self.sent = []

    def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))


@pytest.fixture
def seeded(store):
    calls = [
        call(T + timedelta(minutes=i), account_id="acme", cost_total_usd=Decimal("0.01")) for i in range(3)
    ] + [call(T + timedelta(hours=2), account_id="beta", model="claude", cost_total_usd=Decimal("0.5"),
              success=False, error_type="timeout", error_message="upstream timed out")]
    insert_calls(store, calls)
    return calls


@pytest.fixture
def publisher():
    return Recorder()


@pytest.fixture
def client(settings, store, publisher):
    app = create_app(settings, store, publisher=publisher)
    with TestClient(app, client=LOOPBACK) as c:
        yield c
