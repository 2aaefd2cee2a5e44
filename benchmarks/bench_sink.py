"""Sink benchmark: CPU per event and rows/s of the ClickHouse sink alone, on this machine.

    python benchmarks/bench_sink.py [--events 80000] [--per-message 200] [--label after]

Costed messages are prepared the way the worker makes them (demo traffic -> ``cost_batch`` with
the catalog -> ``encode_costed``, ~200 calls per message, keyed by prompt type) and published to
a noida-db broker *before* the sink starts. Then one ``TopicSink`` (the costed sink of
``ailedger serve``, with its prompt-config lookup) drains the topic into a fresh embedded
ClickHouse (chDB, every rollup view included). Measured from the sink's start until every row is
queryable: wall time, this process's CPU time (the sink thread, the chDB engine's threads, the
consumer's network thread; the broker is another process) and the sink's own counters. The
garbage collector is tuned as ``ailedger serve`` tunes it (``--default-gc``: Python's own; live
traffic, 2 runs each in session 17: 36.5-47.1 tuned, 36.6-46.5 default µs/event, within the noise).

The default volume stays below ~100 MB of costed messages: noida-db keeps its whole log in one
JSON file and stopped answering fetches of a 100,000-call topic (~100 MB, 0 records in 40 s).

Results go to ``benchmarks/results/sink.json``, one entry per ``--label`` (a new run with the
same label replaces the old one), so "before" and "after" figures sit side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from ailedger import gc_tuning, kafka_pacing, topics  # noqa: E402
from ailedger.broker import free_port, start_broker  # noqa: E402
from ailedger.demo_traffic import generate  # noqa: E402
from ailedger.settings import ApiSettings  # noqa: E402
from ailedger.topics import create_topics  # noqa: E402
from benchmarks.bench_pipeline import machine  # noqa: E402
from benchmarks.results_file import store_run  # noqa: E402
from consumers.clickhouse.migrations import migrate  # noqa: E402
from consumers.clickhouse.store import Store  # noqa: E402
from consumers.serve import _config_lookup  # noqa: E402
from consumers.sink import TopicSink  # noqa: E402
from consumers.sink.costed_writer import CostedCallsWriter  # noqa: E402
from schemas.codec import dumps  # noqa: E402
from schemas.costed_columns import CostedColumns, decode_costed, encode_costed  # noqa: E402
from stream_processors.costing import cost_batch  # noqa: E402
from stream_processors.pricing import load_catalog  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "sink.json"


def costed_messages(count: int, per_message: int, seed: int, days: float = 7) -> list[tuple[bytes, bytes]]:
    """(key, value) of costed messages: demo traffic over the last ``days`` days priced in raw
    batches of 200, then packed ``per_message`` calls per message per prompt type (the costed
    topic's key)."""
    catalog = load_catalog(None)
    events = [orjson.loads(dumps(e)) for e in generate(count, days=days, seed=seed)]
    pending: dict[str, list] = {}
    out = []
    for start in range(0, len(events), 200):
        batch = cost_batch(events[start:start + 200], catalog)
        for prompt_type, calls in batch.by_prompt_type.items():
            bucket = pending.setdefault(prompt_type, [])
            bucket.extend(calls)
            while len(bucket) >= per_message:
                out.append((prompt_type.encode(), encode_costed(bucket[:per_message])))
                del bucket[:per_message]
    out += [(pt.encode(), encode_costed(calls)) for pt, calls in pending.items() if calls]
    return out


def calls_in(value: bytes) -> int:
    """How many calls a costed message carries (columns or row form)."""
    decoded = decode_costed(value)
    return decoded.n if isinstance(decoded, CostedColumns) else len(decoded)


def publish(settings: ApiSettings, messages: list[tuple[bytes, bytes]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5,
                             max_request_size=16 * 1024 * 1024, batch_size=1024 * 1024)
    try:
        for key, value in messages:
            producer.send(settings.topic(topics.COSTED), key=key, value=value)
        producer.flush()
    finally:
        producer.close()


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, by thread name (Linux; ClickHouse names its own)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").glob("*"):
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = name.rstrip("0123456789") or name
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run(args) -> dict:
    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-sink-"))
    broker = start_broker(home / "broker", free_port())
    try:
        overrides = {"flush_rows": args.flush_rows} if args.flush_rows else {}
        settings = ApiSettings(home=home, kafka_bootstrap=broker.bootstrap, partitions=args.partitions,
                               clickhouse_dsn=f"chdb://{home / 'clickhouse'}", clickhouse_database="bench",
                               **overrides)
        create_topics(settings)
        prepared = time.perf_counter()
        messages = costed_messages(args.events, args.per_message, args.seed, args.days)
        publish(settings, messages)
        expected = sum(calls_in(value) for _, value in messages)
        print(f"published {len(messages)} messages, {expected} calls in {time.perf_counter() - prepared:.1f}s",
              file=sys.stderr)
        kafka_pacing.install()  # as Services does, before any consumer
        store = Store.from_settings(settings)
        migrate(store, settings.text_ttl_days)
        sink = TopicSink(settings, store, settings.topic(topics.COSTED), CostedCallsWriter(_config_lookup(settings)),
                         name="costed-sink")
        thresholds = () if args.default_gc else settings.gc_thresholds
        gc_tuning.tune(thresholds)  # the collector as `ailedger serve` runs it, once started
        stop = threading.Event()
        load_before = load_average()
        threads0 = thread_cpu()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        thread = threading.Thread(target=sink.run, args=(stop,), daemon=True)
        thread.start()
        first_row = None
        shown = wall0
        while True:  # the sink's own counters, not a count query every 0.1 s (~1 µs/event of this process)
            n = sink.stats.rows_written + sink.stats.rows_skipped  # stored once counted (insert, then count)
            if time.perf_counter() - shown > 5:
                shown = time.perf_counter()
                print(f"{shown - wall0:.0f}s: {n} of {expected} rows; {sink.stats}", file=sys.stderr)
            if n and first_row is None:
                first_row = time.perf_counter()
            if n >= expected:
                break
            if time.perf_counter() - wall0 > args.timeout:
                raise SystemExit(f"timeout: {n} of {expected} rows after {args.timeout}s; stats {sink.stats}")
            time.sleep(0.02)
        end = time.perf_counter()
        wall, cpu = end - wall0, time.process_time() - cpu0
        threads = {name: round(spent - threads0.get(name, 0.0), 2) for name, spent in thread_cpu().items()}
        threads = dict(sorted(((k, v) for k, v in threads.items() if v >= 0.05), key=lambda kv: -kv[1]))
        stop.set()
        thread.join(30)
        stats = sink.stats
        _, check = store.rows("SELECT count(), uniqExact(event_id), sum(cost_total_usd) FROM ai_calls")
        _, rollup = store.rows("SELECT sum(calls), sum(cost_usd) FROM ai_calls_daily")
        assert check[0][0] == check[0][1] == expected, check
        assert rollup[0][0] == expected and rollup[0][1] == check[0][2], (rollup, check)
        store.close()
        return {
            "label": args.label,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "load_average_1m": [load_before, load_average()],
            "events": expected,
            "messages": len(messages),
            "partitions": args.partitions,
            "days": args.days,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "cpu_us_per_event": round(cpu / expected * 1e6, 1),
            "rows_per_s": round(expected / wall),
            "first_row_after_s": round(first_row - wall0, 2) if first_row else None,
            "rows_per_cpu_s": round(expected / cpu),
            "cpu_s_by_thread": threads,
            "flushes": stats.flushes,
            "last_flush_ms": round(stats.last_flush_ms, 1),
            "flush_rows": settings.flush_rows,
            "flush_seconds": settings.flush_seconds,
            "gc_thresholds": list(thresholds) or "python's defaults",
        }
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops the broker
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=80_000)
    parser.add_argument("--per-message", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--days", type=float, default=7,
                        help="the calls' times spread over this many days (0.01: live traffic, all within minutes)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--flush-rows", type=int, default=0, help="override AILEDGER_FLUSH_ROWS")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave Python's collector as it is (before session 17 this benchmark did)")
    parser.add_argument("--label", default="current")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    result = run(args)
    if args.note:
        result["note"] = args.note
    print(json.dumps(result, indent=2))
    store_run(RESULTS, "benchmarks/bench_sink.py", result)


if __name__ == "__main__":
    main()
