from datetime import timedelta
from decimal import Decimal

from schemas.stats import DailyUsage
from stream_processors.stats import daily
from tests.stream_processors.stats.factories import NOW, call


def applied(row, key, calls, offset):
    """``row`` with ``calls`` (all of ``key``) added, as the plan adds a message's calls."""
    usage = daily.usage_by_key(calls)
    assert list(usage) == [key]
    return daily.add(row, key, usage[key], offset)


def test_calls_group_by_day_account_user_and_prompt_type():
    calls = [call(), call(), call(user_id=None), call(account_id="other"), call(at=NOW - timedelta(days=1))]
    groups = daily.usage_by_key(calls)
    assert sorted(usage[0] for usage in groups.values()) == [1, 1, 1, 2]
    assert (NOW.date(), "acme", "", "summarise") in groups


def test_usage_of_a_key_sums_its_calls_only_and_counts_the_priced_cost():
    calls = [call(cost="1.5", input_tokens=10, output_tokens=3, latency_ms=100.0),
             call(account_id="other", cost="7", input_tokens=99),
             call(cost=None, success=False, error_type="x", input_tokens=5, reasoning_tokens=2, latency_ms=50.5),
             call(cost="0.25", cache_read_tokens=4, latency_ms=1.0)]
    usage = daily.usage_by_key(calls)
    assert list(usage) == [(NOW.date(), "acme", "u1", "summarise"), (NOW.date(), "other", "u1", "summarise")]
    assert usage[(NOW.date(), "acme", "u1", "summarise")] == [3, 115, 4, 0, 103, 2, 1, 2, Decimal("1.75"), 151.5]
    assert usage[(NOW.date(), "other", "u1", "summarise")] == [1, 99, 0, 0, 50, 0, 0, 1, Decimal("7"), 800.0]


def test_apply_adds_to_the_row_and_remembers_the_offset():
    key = (NOW.date(), "acme", "u1", "summarise")
    row = applied(None, key, [call(cost="1", input_tokens=10), call(cost=None, success=False,
                                                                        error_type="x", input_tokens=5)], 7)
    row = applied(row, key, [call(cost="2.5", input_tokens=1)], 9)
    assert (row.calls, row.errors, row.priced_calls, row.unpriced_calls) == (3, 1, 2, 1)
    assert row.cost_usd == Decimal("3.5") and row.tokens["input_tokens"] == 16
    assert row.applied_offset == 9


def test_keys_are_unambiguous_whatever_the_ids_contain():
    key = (NOW.date(), "a|b", "c\x1fd", "pt")
    assert daily.decode_key(daily.encode_key(key)) == key
    assert daily.encode_key((NOW.date(), "a", "b|c", "pt")) != daily.encode_key((NOW.date(), "a|b", "c", "pt"))


def test_a_row_is_built_as_model_construct_builds_it():
    key = (NOW.date(), "acme", "u1", "summarise")
    row = applied(None, key, [call(cost="1"), call(cost=None, success=False, error_type="x")], 3)
    values = row.model_dump()
    built = DailyUsage.model_construct(**values)
    assert row == built and row.model_fields_set == built.model_fields_set
    assert row.__pydantic_extra__ == built.__pydantic_extra__ and row.__pydantic_private__ == built.__pydantic_private__
    assert row.model_dump_json() == built.model_dump_json()
    assert DailyUsage.model_validate_json(row.model_dump_json()) == row


def test_apply_keeps_the_token_order_of_a_stored_row_and_adds_missing_buckets():
    key = (NOW.date(), "acme", "u1", "summarise")
    stored = DailyUsage(day=key[0], account_id="acme", user_id="u1", prompt_type="summarise", calls=1,
                        tokens={"output_tokens": 4, "input_tokens": 2}, total_tokens=6, applied_offset=1)
    row = applied(stored, key, [call(input_tokens=10, output_tokens=1)], 2)
    assert list(row.tokens) == ["output_tokens", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                                "reasoning_tokens"]
    assert row.tokens["input_tokens"] == 12 and row.total_tokens == 6 + 11


def test_recent_keys_are_the_rows_of_the_last_days_whatever_the_ids():
    from datetime import date

    today = date(2026, 12, 7)
    keys = {d: daily.encode_key((today - timedelta(days=d), '"acme"', "u,1", "chat")) for d in range(-1, 6)}
    recent = daily.recent_keys(keys.values(), today, 3)
    assert sorted(recent) == sorted(keys[d] for d in (-1, 0, 1, 2))  # tomorrow (clock skew) too
    assert daily.recent_keys(keys.values(), today, 1) == [keys[-1], keys[0]]


def test_rows_a_recovery_would_not_publish_again_are_sent_with_their_run():
    """Every day is either published again by a recovery (the timer's rows) or sent with the run
    that changed it, with a day of overlap for a recovery after midnight."""
    from datetime import date

    today = date(2026, 12, 7)
    with_run = {d for d in range(-1, 6) if daily.sent_with_run(today - timedelta(days=d), today, 3)}
    assert with_run == {2, 3, 4, 5}
    for d in range(-1, 6):  # the day after: what the run left to the timer is recovered again
        key = daily.encode_key((today - timedelta(days=d), "acme", "u1", "chat"))
        recovered = daily.recent_keys([key], today + timedelta(days=1), 3) == [key]
        assert recovered or d in with_run
