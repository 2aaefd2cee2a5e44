from decimal import Decimal

import pytest

from stream_processors.stats.calls import parse_costed
from tests.stream_processors.stats.factories import NOW, costed_dict


def test_reads_the_facts_of_a_costed_call_from_its_wire_form():
    item = costed_dict(cost="0.000123456789", input_tokens=7, cache_read_tokens=3, output_tokens=5,
                       reasoning_tokens=2, prompt="hi", response="yo", metadata={"k": 1}, cached=True)
    call = parse_costed(item)
    assert call.tokens == (7, 3, 0, 5, 2) and call.total_tokens == 17 and call.generated_tokens == 7
    assert call.cost_usd == Decimal("0.000123456789") and call.priced
    assert call.occurred_at == NOW and call.ts == NOW.timestamp()
    assert (call.prompt, call.response, call.metadata, call.cached) == ("hi", "yo", {"k": 1}, True)


def test_an_unpriced_call_has_no_cost_and_keeps_its_reason():
    call = parse_costed(costed_dict(cost=None))
    assert not call.priced and call.cost_usd is None and call.unpriced_reason == "model not in catalog"


@pytest.mark.parametrize("breaks, reason", [
    (lambda d: d.pop("event"), "'event' and 'cost'"),
    (lambda d: d["event"].pop("account_id"), "account_id"),
    (lambda d: d["event"].update(occurred_at="2026-01-01T00:00:00"), "timezone"),
    (lambda d: d["event"].update(input_tokens=-1), "negative"),
    (lambda d: d["event"].update(input_tokens="many"), "token count"),
    (lambda d: d["cost"].update(total_usd=None), "total_usd"),
    (lambda d: d["cost"].update(total_usd="NaN"), "finite"),
])
def test_a_broken_costed_call_is_refused_with_a_reason(breaks, reason):
    item = costed_dict()
    breaks(item)
    with pytest.raises(ValueError, match=reason):
        parse_costed(item)


def test_a_non_object_is_refused():
    with pytest.raises(ValueError, match="JSON object"):
        parse_costed([1, 2])


def test_missing_optional_fields_take_their_defaults_and_ids_are_strings():
    item = costed_dict(user_id=None)
    for name in ("prompt_type", "provider", "operation", "success", "cached", "metadata", "event_id"):
        item["event"].pop(name, None)
    item["cost"]["unpriced_reason"] = None
    call = parse_costed(item)
    assert (call.prompt_type, call.provider, call.operation, call.event_id) == ("default", "", "", "")
    assert call.success and not call.cached and call.metadata == {} and call.user_id is None
    item["event"].update(user_id=42, event_id=7)
    assert (parse_costed(item).user_id, parse_costed(item).event_id) == ("42", "7")
    item["cost"].update(priced=False)
    assert parse_costed(item).unpriced_reason == "no price known"


def test_a_call_without_a_model_is_refused():
    item = costed_dict()
    item["event"]["model"] = ""
    with pytest.raises(ValueError, match="model"):
        parse_costed(item)
