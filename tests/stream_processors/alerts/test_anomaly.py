from datetime import timedelta
from decimal import Decimal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.alerts import AlertKind, Severity
from stream_processors.alerts.anomaly import AnomalyState, check_error_rate, fold, prune, step
from stream_processors.alerts.rules import AlertRules
from stream_processors.stats.calls import Call
from stream_processors.stats.totals import totals_of
from tests.stream_processors.stats.factories import NOW, call

RULES = AlertRules(min_history=20, cost_factor=3.0, cooldown_seconds=600)


def run(calls, state=None, rules=RULES):
    state = state or AnomalyState()
    alerts = []
    for c in calls:
        state, raised = step(state, c, rules)
        alerts += raised
    return state, alerts


def history(n=20, cost="0.01", latency=800.0, start=NOW - timedelta(hours=1)):
    return [call(cost=cost, latency_ms=latency, at=start + timedelta(seconds=i)) for i in range(n)]


def test_a_call_costing_more_than_three_times_the_rolling_average_fires_a_cost_spike():
    state, alerts = run(history())
    assert alerts == []
    state, alerts = run([call(cost="0.031")], state)
    assert [a.kind for a in alerts] == [AlertKind.COST_SPIKE]
    alert = alerts[0]
    assert alert.subject == "prompt_type=summarise model=gpt-4o" and alert.account_id == "acme"
    assert alert.figures["cost_usd"] == "0.031" and alert.figures["factor"] > 3
    assert alert.severity == Severity.WARNING and alert.event_id


def test_no_spike_before_the_minimum_history_nor_at_exactly_the_factor():
    _, alerts = run(history(19) + [call(cost="1.00")])
    assert alerts == []
    state, _ = run(history())
    _, alerts = run([call(cost="0.03")], state)
    assert alerts == []


def test_the_average_is_per_model():
    state, _ = run(history())
    _, alerts = run([call(cost="0.05", model="gpt-4o-mini")], state)
    assert alerts == []


def test_the_same_spike_does_not_fire_again_within_the_cool_down_and_keeps_its_id_in_the_period():
    state, _ = run(history())
    state, first = run([call(cost="0.5", at=NOW)], state)
    state, again = run([call(cost="0.5", at=NOW + timedelta(seconds=30))], state)
    assert len(first) == 1 and again == []
    _, later = run([call(cost="5", at=NOW + timedelta(seconds=601))], state)
    assert len(later) == 1 and later[0].alert_id != first[0].alert_id


def test_a_replayed_call_gets_the_same_alert_id():
    state, _ = run(history())
    spike = call(cost="0.5", at=NOW)
    _, a = run([spike], state)
    _, b = run([spike], state)
    assert a[0].alert_id == b[0].alert_id


def test_an_unpriced_call_fires_once_per_cool_down_per_model():
    state, alerts = run([call(cost=None), call(cost=None), call(cost=None, model="mystery-2")])
    assert [a.kind for a in alerts] == [AlertKind.UNPRICED_MODEL] * 2
    assert alerts[0].figures["reason"] == "model not in catalog"


def test_a_latency_spike_needs_the_factor_and_the_minimum_excess():
    state, _ = run(history(latency=100.0))
    _, small = run([call(latency_ms=900.0)], state)  # 9x but only 800 ms more
    _, big = run([call(latency_ms=1500.0)], state)
    assert small == [] and [a.kind for a in big] == [AlertKind.LATENCY_SPIKE]


def test_failed_calls_do_not_move_the_latency_average():
    state, _ = run(history(latency=100.0))
    state2, _ = run([call(latency_ms=60_000.0, success=False, error_type="timeout")], state)
    assert state2.models["gpt-4o"].latency_avg == state.models["gpt-4o"].latency_avg


def test_error_rate_fires_over_the_window_with_enough_calls():
    window = totals_of([call(success=False, error_type="x")] * 6 + [call()] * 14)
    state, alert = check_error_rate(AnomalyState(), "summarise", window, NOW, RULES)
    assert alert is not None and alert.kind == AlertKind.ERROR_RATE and alert.figures["error_rate"] == 0.3
    _, again = check_error_rate(state, "summarise", window, NOW + timedelta(seconds=5), RULES)
    assert again is None
    few = totals_of([call(success=False, error_type="x")] * 5)
    assert check_error_rate(AnomalyState(), "summarise", few, NOW, RULES)[1] is None
    low = totals_of([call(success=False, error_type="x")] * 4 + [call()] * 16)
    assert check_error_rate(AnomalyState(), "summarise", low, NOW, RULES)[1] is None


def test_prune_forgets_cool_downs_that_have_passed():
    state, _ = run([call(cost=None, at=NOW)])
    assert state.fired
    assert prune(state, NOW.timestamp() + 599, RULES).fired
    assert prune(state, NOW.timestamp() + 600, RULES).fired == {}


# fold: a run of calls at once decides exactly what step decides one call at a time.

MODELS = ["m1", "m2"]


@st.composite
def anomaly_runs(draw):
    """Random runs over two models and two providers: priced and unpriced calls, failures, cost and
    latency spikes, event times that repeat, move back and jump past cool-downs, and rules tight
    enough that spikes and cool-downs happen within a few calls."""
    rules = AlertRules(min_history=draw(st.integers(1, 5)), cost_factor=draw(st.sampled_from([1.5, 3.0])),
                       latency_factor=draw(st.sampled_from([1.5, 3.0])),
                       latency_min_excess_ms=draw(st.sampled_from([0.0, 50.0])),
                       ewma_alpha=draw(st.sampled_from([0.05, 0.3, 1.0])),
                       cooldown_seconds=draw(st.sampled_from([1, 7, 45])))  # = some steps in time
    at = NOW
    calls = []
    for i in range(draw(st.integers(0, 60))):
        at += timedelta(seconds=draw(st.sampled_from([0, 0, 1, 7, 45, 700, -7])))
        priced = draw(st.booleans()) or draw(st.booleans())
        # (a priced call without an amount cannot come from parse_costed; step skips its cost)
        cost = draw(st.sampled_from(["0.01", "0.012", "0.009", "0.05", "0.5", "0", "1E-7", None])) if priced else None
        success = draw(st.integers(0, 5)) > 0
        calls.append(Call(
            event_id=f"e{i}", occurred_at=at, account_id=draw(st.sampled_from(["acme", "globex"])),
            user_id=draw(st.sampled_from([None, "u1"])), prompt_type="summarise",
            model=draw(st.sampled_from(MODELS)), provider=draw(st.sampled_from(["p1", "p2"])), operation="op",
            tokens=(10, 0, 0, 5, 0), latency_ms=draw(st.sampled_from([0.0, 80.0, 100.0, 120.0, 400.0, 5_000.0])),
            success=success, cached=False, priced=priced,
            cost_usd=None if cost is None else Decimal(cost),
            error_type=None if success else "timeout", unpriced_reason=None if priced else "model not in catalog"))
    cut = draw(st.integers(0, len(calls)))
    return rules, calls, cut


def _same(a: AnomalyState, b: AnomalyState) -> None:
    assert list(a.models.items()) == list(b.models.items())  # same values in the same order
    assert list(a.fired.items()) == list(b.fired.items())
    assert orjson.dumps(a.to_wire()) == orjson.dumps(b.to_wire())


@settings(max_examples=300, deadline=None)
@given(anomaly_runs())
def test_fold_equals_step_call_by_call(run_):
    rules, calls, cut = run_
    start, _ = run(calls[:cut], rules=rules)  # a state with history and cool-downs running
    stepped, want = run(calls[cut:], start, rules)
    folded, got = fold(start, calls[cut:], rules)
    _same(folded, stepped)
    assert [a.model_dump() for a in got] == [a.model_dump() for a in want]
    # and in pieces, as successive runs of the agent
    first, got_first = fold(AnomalyState(), calls[:cut], rules)
    second, got_second = fold(first, calls[cut:], rules)
    whole, got_whole = run(calls, rules=rules)
    _same(second, whole)
    assert [a.model_dump() for a in got_first + got_second] == [a.model_dump() for a in got_whole]


def test_fold_of_nothing_is_the_state_itself():
    state, _ = run(history())
    assert fold(state, [], RULES) == (state, [])


def test_fold_fires_what_step_fires_on_a_spike_after_history():
    state, _ = run(history())
    folded, alerts = fold(state, [call(cost="0.5", at=NOW), call(cost="0.5", at=NOW + timedelta(seconds=1)),
                                  call(cost=None), call(latency_ms=60_000.0)], RULES)
    assert [a.kind for a in alerts] == [AlertKind.COST_SPIKE, AlertKind.UNPRICED_MODEL, AlertKind.LATENCY_SPIKE]
    assert set(folded.fired) == {"cost|gpt-4o", "unpriced|openai|gpt-4o", "latency|gpt-4o"}
