import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from ailedger.settings import ApiSettings
from consumers.api.app import create_app
from consumers.api.auth import create_key, revoke_key, verify_key
from tests.consumers.api.conftest import LOOPBACK

DAY = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}


def test_keys_are_stored_hashed_and_verified(store):
    new = create_key(store, "acme")
    _, rows = store.rows("SELECT key_hash, salt FROM api_keys")
    assert new.key.split("_", 2)[2] not in str(rows)
    assert verify_key(store, new.key).account_id == "acme"
    assert verify_key(store, new.key[:-1] + ("x" if new.key[-1] != "x" else "y")) is None
    assert revoke_key(store, new.key_id)
    assert verify_key(store, new.key) is None


def test_account_key_sees_only_its_rows_even_when_asking_for_another(client, store, seeded):
    key = create_key(store, "beta").key
    headers = {"Authorization": f"Bearer {key}"}
    body = client.get("/v1/reports/cost", params=DAY | {"account_id": "acme"}, headers=headers).json()
    assert body["rows"][0]["calls"] == 1
    calls = client.get("/v1/calls", params=DAY, headers=headers).json()["rows"]
    assert {r["account_id"] for r in calls} == {"beta"}
    other = client.get(f"/v1/calls/{seeded[0]['event_id']}", headers=headers)
    assert other.status_code == 404
    assert client.get("/v1/reports/users_ranked", headers=headers).status_code == 403
    assert client.post("/v1/sql", json={"sql": "SELECT 1"}, headers=headers).status_code == 403
    assert client.get("/v1/pricing", headers=headers).status_code == 403


def test_once_a_key_exists_requests_without_one_are_refused(client, store, seeded):
    assert client.get("/v1/reports").status_code == 200  # no keys yet: open on loopback
    admin = create_key(store, "ops", admin=True).key
    assert client.get("/v1/reports").status_code == 401
    assert client.get("/v1/reports", headers={"Authorization": "Bearer ail_nope_nope"}).status_code == 401
    assert client.get("/v1/reports", headers={"X-API-Key": admin}).status_code == 200
    everyone = client.get("/v1/reports/cost", params=DAY, headers={"X-API-Key": admin}).json()
    assert everyone["rows"][0]["calls"] == 4


@pytest.mark.parametrize("api_host, client_addr", [("0.0.0.0", LOOPBACK), ("127.0.0.1", ("10.1.2.3", 4000))])
def test_open_access_needs_a_loopback_server_and_client(settings, store, api_host, client_addr):
    app = create_app(settings.model_copy(update={"api_host": api_host}), store)
    with TestClient(app, client=client_addr) as c:
        assert c.get("/v1/reports").status_code == 401


def test_configured_admin_key(settings, store):
    api_settings = ApiSettings(**settings.model_dump(), admin_key=SecretStr("s3cret-admin"))
    with TestClient(create_app(api_settings, store), client=LOOPBACK) as c:
        assert c.get("/v1/reports").status_code == 401
        assert c.get("/v1/reports", headers={"Authorization": "Bearer s3cret-admin"}).status_code == 200


def test_keys_endpoint_creates_a_working_key(client):
    made = client.post("/v1/keys", json={"account_id": "gamma"}).json()
    assert made["key"].startswith("ail_")
    listed = client.get("/v1/keys", headers={"X-API-Key": made["key"]})
    assert listed.status_code == 403  # an account key is not an admin
    assert client.get("/v1/reports", headers={"X-API-Key": made["key"]}).status_code == 200
