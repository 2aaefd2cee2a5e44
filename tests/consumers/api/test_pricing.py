import json
from datetime import datetime, timedelta, timezone

from ailedger import topics as topic_names
from consumers.api.auth import create_key
from tests.consumers.reports.seeding import call, insert_calls

OVERRIDE = {"provider": "OpenAI", "model": "gpt-4o", "effective_from": "2026-01-01",
            "input": "2.5", "output": "10", "cache_read": "1.25"}


def test_put_validates_publishes_and_get_lists_it(client, store, publisher):
    insert_calls(store, [call(datetime.now(timezone.utc) - timedelta(days=1), model="gpt-4o"),
                         call(datetime.now(timezone.utc) - timedelta(days=1), model="odd", priced=False)])
    response = client.put("/v1/pricing", json=OVERRIDE)
    assert response.status_code == 200, response.text
    topic, key, value = publisher.sent[-1]
    assert topic.endswith(topic_names.PRICING)
    assert key == b"openai/gpt-4o/2026-01-01T00:00:00Z"
    assert json.loads(value)["input"] == "2.5"
    listed = client.get("/v1/pricing").json()
    assert [(o["provider"], o["model"], o["output"]) for o in listed["overrides"]] == [("openai", "gpt-4o", "10")]
    models = {m["model"]: m for m in listed["models_last_30_days"]}
    assert (models["gpt-4o"]["unpriced_calls"], models["odd"]["unpriced_calls"]) == (0, 1)


def test_invalid_override_is_refused_and_nothing_is_published(client, publisher):
    bad = dict(OVERRIDE, output=None)
    assert client.put("/v1/pricing", json=bad).status_code == 422
    assert client.put("/v1/pricing", json=dict(OVERRIDE, input="-1")).status_code == 422
    assert publisher.sent == []


def test_pricing_is_admin_only(client, store):
    key = create_key(store, "acme").key
    assert client.put("/v1/pricing", json=OVERRIDE, headers={"X-API-Key": key}).status_code == 403
