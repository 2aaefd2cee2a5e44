from datetime import timedelta
from decimal import Decimal

import orjson

from schemas.alerts import AlertKind
from schemas.prompt_config import Budget
from stream_processors.alerts.rules import AlertRules
from stream_processors.stats import daily
from stream_processors.stats.guard import Position
from stream_processors.stats.step import PromptTypeState, plan, spend_entries
from tests.stream_processors.stats.factories import NOW, call

RULES = AlertRules()


class Tables:
    """What the agent keeps: the prompt type's value and the daily rows."""

    def __init__(self):
        self.state = None
        self.rows = {}

    def process(self, calls, pos, budget=None, now=NOW):
        return self.process_run([(pos, calls)], budget, now)

    def process_run(self, messages, budget=None, now=NOW):
        keys = {k for _, calls in messages for k in daily.usage_by_key(calls)}
        result = plan(self.state, {k: self.rows.get(k) for k in keys}, messages, now, RULES, budget)
        if result.state is not None:
            self.state = result.state
        self.rows.update(result.daily)
        return result


def test_first_message_creates_the_prompt_type_with_stats_daily_rows_snapshot_and_spend():
    t = Tables()
    calls = [call(cost="1", prompt="p1", at=NOW - timedelta(seconds=5)), call(cost="2", user_id="u2", prompt="p2")]
    result = t.process(calls, Position(0, 0))
    assert result.decision == "apply" and result.new_prompt_type
    assert t.state.stats.all_time.calls == 2 and t.state.stats.all_time.cost_usd == Decimal(3)
    assert len(result.daily) == 2
    assert result.snapshot.prompt == "p2"
    assert sorted((e[0], e[1], e[3], e[5]) for e in result.spend) == [(0, 0, "u1", "1"), (0, 0, "u2", "2")]


def test_a_replayed_message_changes_nothing_but_rewrites_its_values_and_resends_its_spend():
    t = Tables()
    msg = [call(cost="1"), call(cost="2")]
    t.process(msg, Position(0, 0))
    before_state, before_rows = t.state, dict(t.rows)
    again = t.process(msg, Position(0, 0))
    assert again.decision == "replay" and again.alerts == []
    assert t.state == before_state and t.rows == before_rows
    assert again.daily == before_rows  # written again, unchanged
    assert again.spend and again.snapshot is not None


def test_a_replay_still_applies_a_daily_row_whose_write_was_lost():
    t = Tables()
    msg = [call(cost="1")]
    t.process(msg, Position(0, 0))
    (key,) = t.rows
    t.rows[key] = None  # the crash lost this row's write, not the prompt type's
    t.process(msg, Position(0, 0))
    assert t.rows[key].calls == 1 and t.rows[key].cost_usd == Decimal(1)


def test_an_upstream_duplicate_is_skipped_entirely():
    t = Tables()
    msg = [call(cost="1")]
    t.process(msg, Position(0, 0, raw=((2, 40, -1),)))
    dup = t.process(msg, Position(0, 1, raw=((2, 40, -1),)))  # priced twice upstream: new costed offset, same raw
    assert dup.decision == "duplicate" and dup.daily == {} and dup.spend == [] and dup.snapshot is None
    assert dup.skipped == [(2, 40, -1)]
    assert t.state.stats.all_time.calls == 1 and t.state.applied == {"c0": 1, "r2": 40}


def test_a_pricing_replay_grouped_differently_counts_only_its_new_calls_everywhere():
    """After a crash the pricing stage prices raw 2:40-2:41 again, together with the new 2:42."""
    t = Tables()
    first = [call(cost="1", user_id="u1"), call(cost="2", user_id="u1")]
    t.process(first, Position(0, 0, raw=((2, 40, 1), (2, 41, 1))))
    again = t.process(first + [call(cost="4", user_id="u2")], Position(0, 1, raw=((2, 40, 1), (2, 41, 1), (2, 42, 1))))
    assert again.decision == "apply" and again.skipped == [(2, 40, 1), (2, 41, 1)]
    assert t.state.stats.all_time.calls == 3 and t.state.stats.all_time.cost_usd == Decimal(7)
    assert sum(r.calls for r in t.rows.values()) == 3
    assert [(e[1], e[3], e[5]) for e in again.spend] == [(1, "u2", "4")]
    assert t.state.applied == {"c0": 1, "r2": 42}


def test_alerts_come_out_of_the_plan():
    t = Tables()
    t.process([call(cost="0.01", at=NOW - timedelta(minutes=10, seconds=i)) for i in range(25)], Position(0, 0))
    result = t.process([call(cost="1.00"), call(cost=None)], Position(0, 1))
    assert sorted(a.kind for a in result.alerts) == sorted([AlertKind.COST_SPIKE, AlertKind.UNPRICED_MODEL])


def test_error_rate_alert_over_the_window():
    t = Tables()
    calls = [call(success=False, error_type="boom") for _ in range(10)] + [call() for _ in range(10)]
    result = t.process(calls, Position(0, 0))
    assert [a.kind for a in result.alerts] == [AlertKind.ERROR_RATE]


def test_prompt_type_budget_fires_from_the_prompt_type_value():
    t = Tables()
    budget = Budget(scope="prompt_type", prompt_type="summarise", monthly_usd=Decimal(10))
    result = t.process([call(cost="6")], Position(0, 0), budget)
    assert [(a.kind, a.figures["threshold_pct"]) for a in result.alerts] == [(AlertKind.BUDGET_THRESHOLD, 50)]
    assert t.state.spend.spent_usd == Decimal(6)


def test_a_run_of_messages_is_one_update_and_a_regrouped_replay_applies_only_the_new_ones():
    t = Tables()
    msgs = [(Position(1, o), [call(cost="1", user_id=f"u{o}")]) for o in range(5)]
    first = t.process_run(msgs[:3])
    assert first.decisions == {"apply": 3} and t.state.stats.all_time.calls == 3
    assert [(e[1], e[3]) for e in first.spend] == [(0, "u0"), (1, "u1"), (2, "u2")]
    again = t.process_run(msgs[1:])  # after a crash the worker takes the messages in another grouping
    assert again.decisions == {"replay": 2, "apply": 2} and again.decision == "apply"
    assert t.state.stats.all_time.calls == 5 and t.state.stats.all_time.cost_usd == Decimal(5)
    assert sum(r.calls for r in t.rows.values()) == 5
    assert [e[1] for e in again.spend] == [1, 2, 3, 4]  # replayed spend is forwarded again, guarded there


def test_a_message_read_twice_within_one_run_counts_and_forwards_its_spend_once():
    """A seek back while a run is buffered makes the consumer deliver the same message again
    into the same run (seen in the kill -9 test: one costed message's spend counted twice)."""
    t = Tables()
    msg = (Position(1, 7), [call(cost="1", user_id="u1"), call(cost="2", user_id="u2")])
    result = t.process_run([msg, (Position(1, 8), [call(cost="4")]), msg])
    assert result.decisions == {"apply": 2, "replay": 1}
    assert t.state.stats.all_time.calls == 3 and t.state.stats.all_time.cost_usd == Decimal(7)
    assert sorted((e[1], e[3]) for e in result.spend) == [(7, "u1"), (7, "u2"), (8, "u1")]


def test_state_round_trips_through_its_wire_form():
    t = Tables()
    t.process([call(cost="1"), call(cost=None)], Position(3, 9, raw=((1, 2, 2),)))
    wire = orjson.loads(orjson.dumps(t.state.to_wire()))
    assert PromptTypeState.from_wire(wire) == t.state


def test_spend_entries_sum_priced_calls_per_account_user_and_month():
    entries = spend_entries([call(cost="1"), call(cost="2"), call(cost=None), call(cost="4", user_id=None)])
    assert sorted((e[0], e[1], e[3]) for e in entries) == [("acme", "", "4"), ("acme", "u1", "3")]
