import json

from kafka import KafkaConsumer, KafkaProducer
from starlette.testclient import TestClient

from ailedger import topics as topic_names
from consumers.api.app import create_app
from consumers.api.ratings import RatingEvent, store_rating
from consumers.reports import ReportParams, run_report
from tests.consumers.api.conftest import LOOPBACK

DAY = ReportParams(start=None, end=None)


def satisfaction(store):
    return run_report(store, "metrics", DAY).dicts()[0]


def test_rating_is_written_at_once_and_a_re_rating_replaces_it(client, store, seeded, publisher):
    event_id = seeded[0]["event_id"]
    assert client.post(f"/v1/calls/{event_id}/rating", json={"rating": 1}).json()["published"] is True
    assert satisfaction(store)["positive"] == 1
    client.post(f"/v1/calls/{event_id}/rating", json={"rating": -1})
    totals = satisfaction(store)
    assert (totals["positive"], totals["negative"], totals["rated"]) == (0, 1, 1)
    topic, key, value = publisher.sent[-1]
    assert topic.endswith(topic_names.RATINGS) and key == str(event_id).encode()
    assert json.loads(value)["rating"] == -1


def test_replaying_the_ratings_topic_does_not_double_count(client, store, seeded, publisher):
    client.post(f"/v1/calls/{seeded[0]['event_id']}/rating", json={"rating": 1})
    for _, _, value in publisher.sent * 3:
        store_rating(store, RatingEvent.model_validate_json(value))
    assert satisfaction(store)["rated"] == 1


def test_bad_ratings_and_other_accounts_calls(client, store, seeded):
    assert client.post(f"/v1/calls/{seeded[0]['event_id']}/rating", json={"rating": 2}).status_code == 422
    assert client.post("/v1/calls/00000000-0000-0000-0000-000000000000/rating",
                       json={"rating": 1}).status_code == 404
    from consumers.api.auth import create_key

    key = create_key(store, "beta").key
    response = client.post(f"/v1/calls/{seeded[0]['event_id']}/rating", json={"rating": 1},
                           headers={"X-API-Key": key})
    assert response.status_code == 404  # acme's call is invisible to beta


def test_rating_reaches_the_real_ratings_topic(topics, store, seeded):
    producer = KafkaProducer(bootstrap_servers=topics.bootstrap_servers, acks="all")

    def publish(topic: str, key: bytes, value: bytes) -> None:
        producer.send(topic, key=key, value=value).get(timeout=30)

    try:
        with TestClient(create_app(topics, store, publisher=publish), client=LOOPBACK) as c:
            assert c.post(f"/v1/calls/{seeded[1]['event_id']}/rating", json={"rating": 1}).status_code == 200
    finally:
        producer.close()
    consumer = KafkaConsumer(topics.topic(topic_names.RATINGS), bootstrap_servers=topics.bootstrap_servers,
                             auto_offset_reset="earliest", consumer_timeout_ms=20000)
    try:
        message = next(iter(consumer))
    finally:
        consumer.close()
    event = RatingEvent.model_validate_json(message.value)
    assert (str(event.event_id), event.account_id, event.rating) == (str(seeded[1]["event_id"]), "acme", 1)
