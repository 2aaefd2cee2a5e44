"""Bad-input campaign at the HTTP ingest, generated, against the real broker: each malformed event
of a body is rejected by its index with a reason naming its field, the valid ones are published,
and nothing else reaches the raw topic."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bad_events import corrupt, corruption, is_named, valid_events
from tests.producers.conftest import consumed_events
from tests.producers.test_http_ingest import client_for

pytestmark = pytest.mark.integration

ADMIN = {"X-API-Key": "key-admin"}  # names each event's account, as the demo traffic does
VALID = valid_events(10, seed=23, now=datetime.now(timezone.utc))


def test_the_ingest_rejects_each_bad_event_by_index_and_publishes_the_rest(ledger_settings, sender):
    client = client_for(ledger_settings, sender)
    accepted: list[str] = []

    @settings(max_examples=30, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(st.integers(min_value=0, max_value=len(VALID) - 1), corruption, max_size=6),
           st.uuids())
    def post(corruptions, salt):
        body = [corrupt(item, *corruptions[i]) if i in corruptions else item for i, item in enumerate(VALID)]
        for i, item in enumerate(body):  # fresh ids per example: the ingest rejects an id twice in a body only
            if i not in corruptions or corruptions[i][0] != "event_id":
                item["event_id"] = str(salt)[:-4] + f"{i:04d}"
        response = client.post("/v1/events", content=orjson.dumps(body),  # as a client sends it: -inf is null
                               headers={**ADMIN, "Content-Type": "application/json"})
        assert response.status_code == 202, response.text
        result = response.json()
        rejected = {r["index"]: r["reason"] for r in result["rejected"]}
        assert sorted(rejected) == sorted(corruptions)
        for index, reason in rejected.items():
            assert is_named(corruptions[index][0], reason), reason
        good = [body[i]["event_id"] for i in range(len(body)) if i not in corruptions]
        assert result["event_ids"] == good
        accepted.extend(good)

    post()
    assert sorted(e["event_id"] for e in consumed_events(ledger_settings)) == sorted(accepted)
