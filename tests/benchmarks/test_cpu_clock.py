"""The benchmarks' CPU clocks: a thread's CPU by name, and the serve process's split."""

import threading
import time

import orjson

from benchmarks.cpu_clock import ServeProcessClock, python_threads_seconds, threads_used


def _spin(seconds: float, done: threading.Event, stop: threading.Event) -> None:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass
    done.set()
    stop.wait(10)  # alive until measured: an ended thread is not listed


def test_a_busy_thread_is_named_with_its_cpu():
    before = python_threads_seconds()
    done, stop = threading.Event(), threading.Event()
    spinner = threading.Thread(target=_spin, args=(0.3, done, stop), name="spinner")
    spinner.start()
    try:
        assert done.wait(10)
        used = threads_used(before)
    finally:
        stop.set()
        spinner.join()
    assert used["spinner"] >= 0.25
    assert used.get("MainThread", 0.0) < used["spinner"]


def test_the_engine_is_its_threads_and_its_calls_and_python_the_rest(store):
    """chDB parses an insert on the calling thread and runs a query on its own threads: both are
    the engine's; only what the thread does outside the calls is Python's."""
    store.command("CREATE TABLE sink_null (a UInt64, b String) ENGINE = Null")
    data = orjson.dumps([list(range(1_000_000)), ["x" * 20] * 1_000_000])
    clock = ServeProcessClock(store)
    clock.start()
    store.insert_raw("sink_null", data, ["a", "b"], fmt="JSONCompactColumns")
    parsed = clock.in_calls
    store.rows("SELECT sum(number % 7) FROM numbers(200000000)")
    split = clock.per_event(1)  # µs of the one "event": both calls
    assert parsed > 0.005  # the parsing, on this thread (~25-40 ms here; a waiting thread uses ~0)
    assert split["clickhouse engine"] > 100_000
    assert split["python"] < split["clickhouse engine"] / 4
    # by kind of call, and the engine's own threads by the names it gives them
    assert split["in calls"]["raw_insert"] >= parsed * 1e6 * 0.9 and "raw_query" not in split["in calls"]
    assert "query" in split["in calls"]
    engine_threads = split["engine threads"]
    assert engine_threads and "MainThread" not in engine_threads
    assert sum(engine_threads.values()) > split["clickhouse engine"] - sum(split["in calls"].values()) - 50_000
