from decimal import Decimal

from schemas.prompt_config import Budget, budget_key
from stream_processors.alerts.spend import apply_message, keys_of, partition_for, split_by_partition

BUDGETS = {b.key: b for b in [Budget(scope="account", account_id="acme", monthly_usd=Decimal(10)),
                              Budget(scope="user", account_id="acme", user_id="u1", monthly_usd=Decimal(2))]}
AT = "2026-11-10T00:00:00+00:00"


def message(offset, *entries, partition=0):
    return {"entries": [[partition, offset, *e] for e in entries]}


def run(states, msg):
    current = {k: states.get(k) for k in keys_of(msg)}
    new, alerts = apply_message(current, msg, BUDGETS.get)
    return {**states, **new}, alerts


def test_spend_adds_to_the_account_and_the_user_and_fires_their_budgets():
    states, alerts = run({}, message(1, ("acme", "u1", "2026-11", "1.5", AT, "e1"),
                                     ("acme", "", "2026-11", "4", AT, "e2")))
    assert states[budget_key("account", "acme")].spent_usd == Decimal("5.5")
    assert states[budget_key("user", "acme", "u1")].spent_usd == Decimal("1.5")
    assert sorted(a.subject for a in alerts) == ["account=acme", "account=acme user=u1"]


def test_a_message_applied_once_is_not_applied_again_but_its_values_are_rewritten():
    msg = message(7, ("acme", "u1", "2026-11", "1", AT, "e1"))
    states, _ = run({}, msg)
    again, alerts = run(states, msg)
    assert again == states and alerts == []
    older = message(6, ("acme", "u1", "2026-11", "1", AT, "e0"))
    assert run(states, older)[0] == states
    other_partition = message(6, ("acme", "u1", "2026-11", "1", AT, "e0"), partition=1)
    assert run(states, other_partition)[0][budget_key("account", "acme")].spent_usd == Decimal(2)


def test_accounts_map_to_stable_partitions():
    assert partition_for("acme", 4) == partition_for("acme", 4)
    split = split_by_partition([[0, 1, "acme", "", "m", "1", AT, "e"], [0, 1, "b", "", "m", "1", AT, "e"]], 4)
    assert sum(len(v) for v in split.values()) == 2
    assert all(partition_for(e[2], 4) == p for p, entries in split.items() for e in entries)


def test_entries_of_many_costed_messages_in_one_spend_message_are_guarded_one_by_one():
    states, _ = run({}, message(5, ("acme", "", "2026-11", "1", AT, "e5")))
    regrouped = {"entries": [[0, o, "acme", "", "2026-11", "1", AT, f"e{o}"] for o in range(4, 8)]}
    states, _ = run(states, regrouped)
    account = states[budget_key("account", "acme")]
    assert account.spent_usd == Decimal(3) and account.applied == {"c0": 7}


def test_an_entry_carried_twice_by_one_spend_message_is_added_once():
    """The costed stage may forward one costed message twice in one run (read twice after a
    seek back); both copies are new to the stored state, only one may count."""
    entries = [("acme", "u1", "2026-11", "1.5", AT, "e1"), ("acme", "", "2026-11", "4", AT, "e2")]
    states, _ = run({}, message(3, *entries, *entries))
    assert states[budget_key("account", "acme")].spent_usd == Decimal("5.5")
    assert states[budget_key("user", "acme", "u1")].spent_usd == Decimal("1.5")
    two_users_in_one_costed_message = message(4, ("acme", "u1", "2026-11", "1", AT, "e3"),
                                              ("acme", "u2", "2026-11", "1", AT, "e4"))
    after = run(states, two_users_in_one_costed_message)[0]
    assert after[budget_key("account", "acme")].spent_usd == Decimal("7.5")  # distinct entries both count


def test_an_entry_adds_to_its_account_and_to_its_user_if_it_has_one():
    from schemas.prompt_config import budget_key
    from stream_processors.alerts.spend import subject_keys

    assert subject_keys("acme", "u1") == (budget_key("account", account_id="acme"),
                                          budget_key("user", account_id="acme", user_id="u1"))
    assert subject_keys("acme", "") == (budget_key("account", account_id="acme"),)
