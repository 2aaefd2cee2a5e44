"""The serve process's consumer threads: one that dies makes ``/healthz`` fail, so an orchestrator
restarts the process instead of leaving a healthy-looking API over a sink that stopped."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ailedger.settings import ApiSettings
from consumers.api_wiring import build_api
from tests.consumers.api.conftest import LOOPBACK
from tests.consumers.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the crash under test
def test_a_sink_thread_that_dies_fails_healthz(settings, topics, services_factory):
    services = services_factory()
    app = build_api(ApiSettings(**settings.model_dump()), services)
    with TestClient(app, client=LOOPBACK) as client:
        assert client.get("/healthz").status_code == 200
        assert services.problems() == {}

        services.costed_sink.consumer.close()  # its next poll raises in the sink thread
        assert wait_for(lambda: "costed-sink" in services.problems(), timeout=30)
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing" and body["consumers"]["costed-sink"].startswith("crashed: ")
    assert "dead-letter-sink" not in body["consumers"]


def test_the_dead_letter_sink_waits_longer_for_its_rare_letters(settings, topics, services_factory):
    services = services_factory()
    assert services.costed_sink.consumer.config["fetch_max_wait_ms"] == settings.fetch_max_wait_ms == 100
    assert services.dead_letter_sink.consumer.config["fetch_max_wait_ms"] == 500
