import csv
import io
from decimal import Decimal

from tests.consumers.api.conftest import T

DAY = {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}


def test_health_and_openapi(client):
    assert client.get("/healthz").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/reports/{name}", "/v1/calls", "/v1/calls/{event_id}/rating", "/v1/pricing", "/v1/sql"):
        assert path in paths


def test_report_list_and_json(client, seeded):
    names = {r["name"] for r in client.get("/v1/reports").json()}
    assert {"cost", "token_usage", "cost_analysis", "metrics", "calls", "call", "task_costs"} <= names
    body = client.get("/v1/reports/cost", params=DAY).json()
    assert Decimal(body["rows"][0]["cost_usd"]) == Decimal("0.53")
    assert {s["name"] for s in body["sections"]} == {"by_model", "by_prompt_type"}


def test_report_csv_is_an_attachment(client, seeded):
    response = client.get("/v1/reports/cost", params=DAY | {"format": "csv", "section": "by_model"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["model"]: Decimal(r["cost_usd"]) for r in rows} == {"gpt-4o": Decimal("0.03"), "claude": Decimal("0.5")}


def test_bad_requests_are_4xx(client, seeded):
    assert client.get("/v1/reports/nope").status_code == 404
    assert client.get("/v1/reports/cost", params={"granularity": "minute"}).status_code == 422
    assert client.get("/v1/reports/cost", params={"start": "2026-03-03", "end": "2026-03-02"}).status_code == 400
    assert client.get("/v1/reports/cost", params={"format": "csv", "section": "nope"}).status_code == 400
    assert client.get("/v1/calls/not-a-uuid").status_code == 400
    assert client.get("/v1/calls/00000000-0000-0000-0000-000000000000").status_code == 404


def test_calls_explorer_and_detail(client, seeded):
    page = client.get("/v1/calls", params=DAY | {"limit": 2}).json()
    assert len(page["rows"]) == 2 and page["notes"]["total"] == 4
    assert page["rows"][0]["event_id"] == str(seeded[-1]["event_id"])
    failed = client.get("/v1/calls", params=DAY | {"search": "timed out"}).json()["rows"]
    assert [r["account_id"] for r in failed] == ["beta"]
    text = client.get("/v1/calls", params=DAY | {"format": "csv", "success": "false"}).text
    assert text.splitlines()[0].startswith("event_id,occurred_at")
    assert len(text.splitlines()) == 2
    detail = client.get(f"/v1/calls/{seeded[0]['event_id']}").json()
    assert detail["rows"][0]["occurred_at"].startswith(T.strftime("%Y-%m-%dT%H:%M"))


def test_sql_is_read_only(client, seeded):
    ok = client.post("/v1/sql", json={"sql": "SELECT account_id, count() AS n FROM ai_calls GROUP BY account_id "
                                             "ORDER BY account_id"})
    assert ok.json() == {"columns": ["account_id", "n"], "rows": [["acme", 3], ["beta", 1]], "truncated": False}
    assert client.post("/v1/sql", json={"sql": "TRUNCATE TABLE ai_calls"}).status_code == 400
    assert client.post("/v1/sql", json={"sql": "SELECT nosuchcolumn FROM ai_calls"}).status_code == 400
    assert client.post("/v1/sql", json={"sql": "SELECT count() FROM ai_calls"}).json()["rows"] == [[4]]


def test_dashboard_and_vendored_chart_library_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "cdn" not in page.text.lower()


def test_healthz_fails_with_the_consumers_that_stopped(client):
    client.app.state.health = lambda: {"costed-sink": "crashed: KafkaError: boom"}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["consumers"] == {"costed-sink": "crashed: KafkaError: boom"}
