import threading

from consumers.alerts.webhooks import WebhookPoster
from tests.consumers.alerts.factories import alert


def test_retries_with_backoff_until_the_webhook_takes_the_alert(receiver_factory):
    receiver = receiver_factory(fail_first=3)
    poster = WebhookPoster([receiver.url], max_attempts=5, backoff_seconds=0.01)
    a = alert()
    pending, attempts, _ = poster.deliver(a)
    assert pending == [] and attempts == 4 and receiver.requests == 4
    assert receiver.accepted_ids() == [a.alert_id]
    assert receiver.headers[0]["x-ailedger-alert-id"] == a.alert_id
    assert receiver.accepted[0]["figures"] == {"cost_usd": "1", "factor": 10.0}


def test_a_webhook_failing_all_retries_is_marked_down_and_skipped_until_it_takes_one(receiver_factory):
    receiver = receiver_factory(fail_first=100)
    poster = WebhookPoster([receiver.url], max_attempts=3, backoff_seconds=0.01)
    pending, attempts, error = poster.deliver(alert())
    assert pending == [receiver.url] and attempts == 3 and error == "HTTP 503"
    requests = receiver.requests
    pending, attempts, _ = poster.deliver(alert())
    assert pending == [receiver.url] and attempts == 0 and receiver.requests == requests
    receiver.recover()
    ok, _, _ = poster.post(receiver.url, alert(), attempts=1)
    assert ok and receiver.url not in poster.down


def test_a_refused_connection_is_a_failure_not_an_exception(receiver_factory):
    receiver = receiver_factory()
    url = receiver.url
    receiver.close()
    poster = WebhookPoster([url], max_attempts=2, backoff_seconds=0.01)
    pending, attempts, error = poster.deliver(alert())
    assert pending == [url] and attempts == 2 and "ConnectError" in error


def test_every_webhook_gets_the_alert(receiver_factory):
    a, b = receiver_factory(), receiver_factory(fail_first=1)
    poster = WebhookPoster([a.url, b.url], backoff_seconds=0.01)
    pending, _, _ = poster.deliver(alert())
    assert pending == [] and len(a.accepted) == len(b.accepted) == 1


def test_stopping_ends_the_backoff_at_once(receiver_factory):
    receiver = receiver_factory(fail_first=100)
    stop = threading.Event()
    stop.set()
    poster = WebhookPoster([receiver.url], max_attempts=10, backoff_seconds=60, stop=stop)
    ok, attempts, _ = poster.post(receiver.url, alert())
    assert not ok and attempts == 1
