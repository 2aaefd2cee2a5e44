"""``/v1/pipeline/lag`` against the real broker: each stage's lag, admins only, answers reused."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer
from starlette.testclient import TestClient

from ailedger import topics as names
from consumers.api import pipeline
from consumers.api.app import create_app
from consumers.api.auth import create_key
from tests.consumers.api.conftest import LOOPBACK

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("topics")]


def publish(settings, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        for i in range(count):
            producer.send(settings.topic(topic), value=b"{}", partition=0)
            producer.flush()  # a batch per record: Tansu's end offsets count batches (README, brokers)
    finally:
        producer.close()


def test_each_stage_behind_is_reported_to_admins_only(settings, store, monkeypatch):
    monkeypatch.setenv("AILEDGER_APP_ID", "api-test-worker")
    publish(settings, names.RAW, 3)
    with TestClient(create_app(settings, store), client=LOOPBACK) as client:
        answer = client.get("/v1/pipeline/lag").json()  # loopback, no keys yet: the local admin
        stages = {s["stage"]: s for s in answer["stages"]}
        assert stages["pricing (worker)"] == {"stage": "pricing (worker)", "group": "api-test-worker",
                                              "topic": settings.topic(names.RAW), "behind": 3}
        assert [s["behind"] for s in answer["stages"]] == [3, 0, 0, 0, 0, 0]
        assert stages["ClickHouse sink (serve)"]["group"] == settings.topic("ailedger-sink")

        publish(settings, names.RAW, 1)
        assert client.get("/v1/pipeline/lag").json() == answer  # reused within CACHE_SECONDS
        monkeypatch.setattr(pipeline, "CACHE_SECONDS", 0.0)
        assert client.get("/v1/pipeline/lag").json()["stages"][0]["behind"] == 4

        account_key = create_key(store, "acme").key
        denied = client.get("/v1/pipeline/lag", headers={"Authorization": f"Bearer {account_key}"})
        assert denied.status_code == 403
