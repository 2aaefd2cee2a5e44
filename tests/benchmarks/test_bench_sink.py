"""The sink benchmark's input: costed messages as the worker writes them, counted right."""

from benchmarks.bench_sink import calls_in, costed_messages


def test_the_prepared_costed_messages_carry_every_call_once():
    messages = costed_messages(1000, per_message=200, seed=3)
    assert sum(calls_in(value) for _, value in messages) == 1000
    assert len({key for key, _ in messages}) > 1  # keyed by prompt type, as the costed topic is
    assert all(calls_in(value) <= 200 for _, value in messages)
