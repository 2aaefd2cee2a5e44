"""POST /v1/events through FastAPI's TestClient, published to the real broker."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ailedger.broker import free_port
from producers.config import LedgerSettings
from producers.http_ingest import ANY_ACCOUNT, make_ingest_router, static_key_auth
from producers.sender import KafkaSender
from tests.producers.conftest import consume_raw, consumed_events

pytestmark = pytest.mark.integration

KEYS = {"key-acme": "acme", "key-admin": ANY_ACCOUNT}
ACME = {"Authorization": "Bearer key-acme"}


def event(**fields) -> dict:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": datetime.now(timezone.utc).isoformat(),
            "provider": "openai", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 2}
    return {**base, **fields}


def client_for(settings, publisher, **limits) -> TestClient:
    app = FastAPI()
    app.include_router(make_ingest_router(settings, publisher, static_key_auth(KEYS), **limits))
    return TestClient(app)


def test_one_event_a_list_and_a_batch_envelope_are_published_after_the_ack(ledger_settings, sender):
    client = client_for(ledger_settings, sender)
    single = event()
    listed = [event(), event()]
    batch = {"type": "ai.batch.v1", "items": [event()]}
    for body in (single, listed, batch):
        response = client.post("/v1/events", json=body, headers=ACME)
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == []
    published = consumed_events(ledger_settings)  # 202 means acknowledged: already readable
    expected = [single["event_id"], *(e["event_id"] for e in listed), batch["items"][0]["event_id"]]
    assert sorted(e["event_id"] for e in published) == sorted(expected)
    assert {e["account_id"] for e in published} == {"acme"}  # filled in from the API key
    assert all(record.key == b"acme" for record, _ in consume_raw(ledger_settings))


def test_invalid_events_are_listed_by_index_and_field_while_valid_ones_go_through(ledger_settings, sender):
    client = client_for(ledger_settings, sender)
    good = event()
    duplicate = dict(good)
    body = [
        good,
        event(input_tokens=-1),
        event(account_id="someone-else"),
        {k: v for k, v in event().items() if k != "event_id"},
        "not an object",
        duplicate,
        event(type="ai.call.v99"),
    ]
    response = client.post("/v1/events", json=body, headers=ACME)
    assert response.status_code == 202
    result = response.json()
    assert result["accepted"] == 1 and result["event_ids"] == [good["event_id"]]
    errors = {r["index"]: r for r in result["rejected"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6]
    assert errors[1]["reason"].startswith("input_tokens") and errors[1]["event_id"] == body[1]["event_id"]
    assert errors[2]["reason"].startswith("account_id")
    assert errors[3]["reason"].startswith("event_id") and errors[3]["event_id"] is None
    assert "JSON object" in errors[4]["reason"]
    assert "twice" in errors[5]["reason"]
    assert errors[6]["reason"].startswith("type")
    assert [e["event_id"] for e in consumed_events(ledger_settings)] == [good["event_id"]]


def test_nothing_valid_is_a_422_and_nothing_is_published(ledger_settings, sender):
    response = client_for(ledger_settings, sender).post("/v1/events", json=[event(model="")], headers=ACME)
    assert response.status_code == 422
    assert response.json()["rejected"][0]["reason"].startswith("model")
    assert consumed_events(ledger_settings) == []


def test_an_admin_key_may_write_any_account_but_must_name_it(ledger_settings, sender):
    client = client_for(ledger_settings, sender)
    ok = client.post("/v1/events", json=event(account_id="globex"), headers={"X-API-Key": "key-admin"})
    assert ok.status_code == 202
    missing = client.post("/v1/events", json=event(), headers={"X-API-Key": "key-admin"})
    assert missing.status_code == 422 and missing.json()["rejected"][0]["reason"].startswith("account_id")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": ""}])
def test_without_a_known_key_it_is_401(ledger_settings, sender, headers):
    response = client_for(ledger_settings, sender).post("/v1/events", json=event(), headers=headers)
    assert response.status_code == 401


def test_oversized_bodies_and_too_many_events_are_413(ledger_settings, sender):
    client = client_for(ledger_settings, sender, max_body_bytes=2_000, max_events=3)
    big = event(prompt="x" * 5_000)
    assert client.post("/v1/events", json=big, headers=ACME).status_code == 413
    chunked = client.post("/v1/events", content=iter([orjson.dumps(big)]), headers={**ACME, "Content-Type": "application/json"})
    assert chunked.status_code == 413  # no Content-Length: counted while reading
    assert client.post("/v1/events", json=[event() for _ in range(4)], headers=ACME).status_code == 413
    assert consumed_events(ledger_settings) == []


def test_a_body_that_is_not_json_is_400(ledger_settings, sender):
    client = client_for(ledger_settings, sender)
    assert client.post("/v1/events", content=b"{nope", headers=ACME).status_code == 400
    assert client.post("/v1/events", json=[], headers=ACME).status_code == 400


def test_broker_down_is_503_with_retry_after(tmp_path):
    settings = LedgerSettings(home=tmp_path, kafka_bootstrap=f"127.0.0.1:{free_port()}", connect_timeout_s=0.3)
    down = KafkaSender(settings)
    response = client_for(settings, down, ack_timeout_s=1.0).post("/v1/events", json=event(), headers=ACME)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_defaults_publish_with_the_settings_broker_and_accept_only_the_admin_key(topics):
    from ailedger.settings import ApiSettings

    settings = ApiSettings(**topics.model_dump(include=set(type(topics).model_fields)), admin_key="s3cret")
    app = FastAPI()
    app.include_router(make_ingest_router(settings))
    with TestClient(app) as client:  # its shutdown closes the router's own sender
        assert client.post("/v1/events", json=event(account_id="acme"), headers=ACME).status_code == 401
        body = event(account_id="acme")
        response = client.post("/v1/events", json=body, headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 202
    assert [e["event_id"] for e in consumed_events(settings)] == [body["event_id"]]
