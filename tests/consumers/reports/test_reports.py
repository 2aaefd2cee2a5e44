"""Every named report against a small seeded store whose figures are known by hand."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from consumers.reports import REGISTRY, ReportError, ReportParams, render_table, run_report
from tests.consumers.reports.seeding import call, insert_calls

T = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
DAY = ReportParams(start=datetime(2026, 3, 2, tzinfo=timezone.utc), end=datetime(2026, 3, 3, tzinfo=timezone.utc))


def rows_of(section):
    return [dict(zip(section.columns, r)) for r in section.rows]


@pytest.fixture
def seeded(store):
    cheap = [call(T + timedelta(minutes=i), cost_total_usd=Decimal("0.01"), output_tokens=50, latency_ms=500.0)
             for i in range(9)]
    spike = call(T + timedelta(minutes=30), cost_total_usd=Decimal("0.50"), task_id="t1", operation="plan")
    claude = [
        call(T + timedelta(hours=4), model="claude", provider="anthropic", user_id="u2",
             cost_total_usd=Decimal("0.02"), task_id="t1", operation="write"),
        call(T + timedelta(hours=4, minutes=1), model="claude", provider="anthropic", user_id="u2", success=False,
             error_type="rate_limit", error_message="429 Too Many Requests: slow down", cost_total_usd=Decimal("0.02")),
    ]
    unpriced = call(T + timedelta(hours=5), account_id="beta", user_id="u3", model="mystery", priced=False,
                    cached=True)
    insert_calls(store, cheap + [spike] + claude + [unpriced])
    return {"store": store, "cheap": cheap, "spike": spike, "claude": claude, "unpriced": unpriced}


def test_every_report_runs_on_an_empty_store_and_renders(store):
    for name in REGISTRY:
        if name == "call":
            continue
        result = run_report(store, name, ReportParams())
        assert isinstance(render_table(result), str)


def test_token_usage_totals_breakdowns_and_patterns(seeded):
    result = run_report(seeded["store"], "token_usage", DAY)
    totals = result.dicts()[0]
    assert totals["calls"] == 13
    assert totals["total_tokens"] == 9 * 150 + 4 * 150
    assert totals["success_rate"] == pytest.approx(12 / 13)
    assert rows_of(result.section("by_account"))[0]["account_id"] == "acme"
    hours = {r["hour_of_day"]: r["calls"] for r in rows_of(result.section("hourly_pattern"))}
    assert hours == {10: 10, 14: 2, 15: 1}
    assert sum(r["calls"] for r in rows_of(result.section("heatmap"))) == 13


def test_cost_analysis_flags_the_spike_and_scores_efficiency(seeded):
    result = run_report(seeded["store"], "cost_analysis", DAY)
    anomalies = rows_of(result.section("anomalies"))
    assert [a["event_id"] for a in anomalies] == [str(seeded["spike"]["event_id"])]
    assert anomalies[0]["avg_cost_usd"] == Decimal("0.059")
    matrix = {r["model"]: r for r in rows_of(result.section("model_comparison"))}
    assert matrix["claude"]["efficiency_score"] == 50.0  # the cheaper per token, half of its calls failed
    assert matrix["mystery"]["efficiency_score"] is None
    assert matrix["gpt-4o"]["efficiency_score"] < 50
    totals = result.dicts()[0]
    assert totals["cost_usd"] == Decimal("0.63") and totals["unpriced_calls"] == 1


def test_projection_is_the_daily_average_of_the_last_seven_days(seeded):
    result = run_report(seeded["store"], "projection", ReportParams(end=datetime(2026, 3, 3, tzinfo=timezone.utc)))
    row = result.dicts()[0]
    assert row["daily_avg_cost_usd"] == Decimal("0.09")
    assert row["projected_month_usd"] == Decimal("2.7")
    assert row["unpriced_calls"] == 1


def test_metrics_with_ratings_counted_once_after_a_replay(seeded):
    store = seeded["store"]
    rated = seeded["cheap"][0]
    rating = [rated["event_id"], "acme", "key1", 1, T]
    columns = ["event_id", "account_id", "rated_by", "rating", "rated_at"]
    store.insert("ai_ratings", [rating, [seeded["cheap"][1]["event_id"], "acme", "key1", -1, T]], columns)
    store.insert("ai_ratings", [rating], columns)  # the ratings topic replayed
    result = run_report(store, "metrics", DAY)
    totals = result.dicts()[0]
    assert (totals["requests"], totals["errors"], totals["cache_hits"]) == (13, 1, 1)
    assert (totals["positive"], totals["negative"], totals["satisfaction_rate"]) == (1, 1, 0.5)
    by_model = {r["model"]: r for r in rows_of(result.section("by_model"))}
    assert by_model["claude"]["error_rate"] == 0.5
    assert by_model["gpt-4o"]["rated"] == 2


def test_cost_summary_per_user_and_users_ranked(seeded):
    store = seeded["store"]
    summary = run_report(store, "cost_summary", ReportParams(granularity="month"))
    per_user = {r["user_id"]: r for r in summary.dicts()}
    assert per_user["u1"]["cost_usd"] == Decimal("0.59") and per_user["u1"]["calls"] == 10
    assert per_user["u3"]["cost_usd"] is None
    with pytest.raises(ReportError):
        run_report(store, "cost_summary", ReportParams(granularity="hour"))
    ranked = run_report(store, "users_ranked", ReportParams()).dicts()
    assert [(r["rank"], r["user_id"]) for r in ranked] == [(1, "u1"), (2, "u2"), (3, "u3")]


def test_task_costs_per_task_and_operation(seeded):
    result = run_report(seeded["store"], "task_costs", DAY)
    tasks = result.dicts()
    assert len(tasks) == 1
    assert (tasks[0]["task_id"], tasks[0]["calls"], tasks[0]["cost_usd"]) == ("t1", 2, Decimal("0.52"))
    assert tasks[0]["operations"] == "plan, write"
    ops = {r["operation"]: r["calls"] for r in rows_of(result.section("by_operation"))}
    assert ops == {"answer": 11, "plan": 1, "write": 1}


def test_calls_explorer_filters_search_and_pages(seeded):
    store = seeded["store"]
    newest = run_report(store, "calls", DAY).dicts()
    assert newest[0]["event_id"] == str(seeded["unpriced"]["event_id"])
    assert [r["occurred_at"] for r in newest] == sorted((r["occurred_at"] for r in newest), reverse=True)
    failed = run_report(store, "calls", ReportParams(start=DAY.start, end=DAY.end, success=False)).dicts()
    assert [r["event_id"] for r in failed] == [str(seeded["claude"][1]["event_id"])]
    found = run_report(store, "calls", ReportParams(start=DAY.start, end=DAY.end, search="too many")).dicts()
    assert len(found) == 1
    by_id = run_report(store, "calls", ReportParams(start=DAY.start, end=DAY.end,
                                                    search=str(seeded["spike"]["event_id"]).upper())).dicts()
    assert len(by_id) == 1
    insert_calls(store, [dict(seeded["cheap"][0], version=2, cost_total_usd=Decimal("0.02"))])  # a re-rating
    page = run_report(store, "calls", ReportParams(start=DAY.start, end=DAY.end, limit=5, offset=5))
    assert len(page.rows) == 5 and page.notes["total"] == 13
    assert page.dicts()[0]["event_id"] == newest[5]["event_id"]
    beta = run_report(store, "calls", ReportParams(start=DAY.start, end=DAY.end, account_id="beta")).dicts()
    assert [r["account_id"] for r in beta] == ["beta"]


def test_call_detail_and_bad_ids(seeded):
    store = seeded["store"]
    spike = seeded["spike"]
    detail = run_report(store, "call", ReportParams(event_id=str(spike["event_id"]))).dicts()[0]
    assert (detail["task_id"], detail["cost_total_usd"]) == ("t1", Decimal("0.5"))
    assert detail["prompt"] == ""  # older than the text TTL (90 days)
    assert "is_new" not in detail
    recent = call(datetime.now(timezone.utc) - timedelta(days=1), prompt="the prompt", response="the response")
    insert_calls(store, [recent])
    detail = run_report(store, "call", ReportParams(event_id=str(recent["event_id"]))).dicts()[0]
    assert (detail["prompt"], detail["response"]) == ("the prompt", "the response")
    with pytest.raises(ReportError, match="no call"):
        run_report(store, "call", ReportParams(event_id=str(spike["event_id"]), account_id="beta"))
    with pytest.raises(ReportError, match="UUID"):
        run_report(store, "call", ReportParams(event_id="not-a-uuid"))


def test_values_are_parameters_not_sql(seeded):
    hostile = ReportParams(account_id="acme' OR 1=1 --", start=DAY.start, end=DAY.end)
    for name in ("cost", "calls", "token_usage"):
        result = run_report(seeded["store"], name, hostile)
        calls_column = "calls" if name != "calls" else None
        if calls_column:
            assert result.dicts()[0]["calls"] == 0
        else:
            assert result.rows == []


def test_alerts_newest_first_scoped_to_the_account(store):
    from consumers.alerts.store import AlertRecord, save
    from schemas.alerts import Alert, AlertKind, Severity

    now = datetime.now(timezone.utc)
    alerts = [Alert(alert_id=f"a{i}", kind=AlertKind.COST_SPIKE, severity=Severity.WARNING, subject="model=gpt-4o",
                    account_id=account, message=f"spike {i}", occurred_at=now - timedelta(hours=i))
              for i, account in enumerate(["acme", "beta", "acme"])]
    save(store, [AlertRecord(a, webhooks=False) for a in alerts])
    rows = run_report(store, "alerts", ReportParams(account_id="acme")).dicts()
    assert [r["alert_id"] for r in rows] == ["a0", "a2"]
    assert run_report(store, "alerts", ReportParams()).notes["available"] is True


def test_alerts_report_says_when_the_table_is_missing(store):
    store.command("DROP TABLE ai_alerts")
    result = run_report(store, "alerts", ReportParams())
    assert result.rows == [] and result.notes["available"] is False


def test_reports_read_the_smallest_rollup_that_can_answer():
    from consumers.reports.query import pick_rollup

    whole_days = DAY
    assert pick_rollup(whole_days).table == "ai_calls_daily_by_model"
    assert pick_rollup(whole_days, ("operation",)).table == "ai_calls_hourly"
    assert pick_rollup(whole_days, ("user_id",)).table == "ai_calls_daily"
    assert pick_rollup(ReportParams(start=T, end=T + timedelta(hours=3))).table == "ai_calls_hourly"
    assert pick_rollup(ReportParams(granularity="hour")).table == "ai_calls_hourly"
    assert pick_rollup(ReportParams(start=DAY.start, end=DAY.end, operation="plan")).table == "ai_calls_hourly"
    assert pick_rollup(ReportParams(start=DAY.start, end=DAY.end, user_id="u2")).table == "ai_calls_daily"


def test_filters_reach_the_rollups(seeded):
    store = seeded["store"]
    only_u2 = run_report(store, "cost", ReportParams(start=DAY.start, end=DAY.end, user_id="u2")).dicts()[0]
    assert (only_u2["calls"], only_u2["cost_usd"]) == (2, Decimal("0.04"))
    plan = run_report(store, "cost", ReportParams(start=DAY.start, end=DAY.end, operation="plan")).dicts()[0]
    assert (plan["calls"], plan["cost_usd"]) == (1, Decimal("0.5"))
    with pytest.raises(ReportError, match="user_id"):
        run_report(store, "token_usage", ReportParams(start=DAY.start, end=DAY.end, user_id="u2"))
