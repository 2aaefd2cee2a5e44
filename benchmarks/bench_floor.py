"""The floor under issue 7's 20,000 events/s target: the CPU per event that the pipeline's fixed
parts spend when none of ailedger's own logic runs.

    python benchmarks/bench_floor.py [--events 100000] [--broker noida|tansu] [--flush-rows 10000]

Two cores give 2,000,000 µs of CPU a second, so 20,000 events/s on one 2-core machine allows
100 µs per event for everything together. Each part below is measured on its own, with its
inputs built before its clock starts, and does only what no implementation of this design can
leave out:

1. **broker**: the least traffic of the pipeline: raw messages in the SDK's format (200 events,
   keyed by account) written once and read once (the worker), the costed messages they become
   written once and read twice (statistics and sink). No changelog, spend, alert or view topic.
   The broker process's CPU over all of it.
2. **clients**: the same writes and reads by kafka-python (with crc32c) in this process, bytes
   only, no decoding: what any Python producer, worker and sink pays to move the events.
3. **engine**: ClickHouse (chDB, in this process) inserting the sink's own rows into ``ai_calls``
   with every rollup view, ``--flush-rows`` rows an insert, each with a dedup token, already
   encoded: no Python row building and no replay version check. (Reported beside it, not in the
   floor: one ``OPTIMIZE ... FINAL`` of every table afterwards, an upper bound of what the
   background merges of those rows cost.)

The sum is the floor. If it is above 100 µs per event, no change to the worker's or the sink's
Python can reach the target on this machine with these components.

Beside it, the broker's CPU during a trickle of 10 small writes a second, on the empty broker
and again once it holds the floor's traffic: noida-db keeps its whole log in one JSON file
(record bytes as JSON numbers) and pays for each write by the size of that file, which is
why it costs a pipeline far more than its floor (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from ailedger import topics  # noqa: E402
from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402
from ailedger.demo_traffic import generate  # noqa: E402
from ailedger.publishing import HEADERS  # noqa: E402
from ailedger.settings import ApiSettings  # noqa: E402
from ailedger.topics import create_topics  # noqa: E402
from benchmarks.bench_pipeline import machine  # noqa: E402
from benchmarks.cpu_clock import cpu_seconds  # noqa: E402
from benchmarks.bench_sink import costed_messages, load_average  # noqa: E402
from consumers.clickhouse.migrations import migrate  # noqa: E402
from consumers.clickhouse.rows import INSERT_SETTINGS, ROWS_FORMAT, encode_rows, keep_latest  # noqa: E402
from consumers.clickhouse.store import Store  # noqa: E402
from consumers.sink.costed_writer import CostedCallsWriter  # noqa: E402
from schemas.codec import encode_batch, event_to_dict  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "floor.json"
BUDGET_US = 2 * 1e6 / 20_000  # two cores' CPU a second over 20,000 events


def raw_messages(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of raw messages as the SDK sends them: 200 events per account a message."""
    pending: dict[str, list] = defaultdict(list)
    out = []
    for event in generate(count, seed=seed):
        batch = pending[event.account_id]
        batch.append(event_to_dict(event))  # as BatchPublisher (the SDK's format), encoded before the clock
        if len(batch) == 200:
            out.append((event.account_id.encode(), encode_batch(batch)))
            batch.clear()
    out += [(account.encode(), encode_batch(batch)) for account, batch in pending.items() if batch]
    return out


def write(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             max_request_size=16 * 1024 * 1024, batch_size=1024 * 1024)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value, headers=HEADERS)
        producer.flush()
    finally:
        producer.close()


def read(bootstrap: str, topic: str, expected: int, timeout: float) -> None:
    """Read ``expected`` messages of ``topic`` from the beginning (counted, not end offsets: Tansu
    misreports those)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100,
                             fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        seen = 0
        deadline = time.monotonic() + timeout
        while seen < expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"timeout: read {seen} of {expected} messages of {topic}")
            for records in consumer.poll(timeout_ms=500, max_records=100_000).values():
                seen += len(records)
    finally:
        consumer.close()


def broker_cpu(broker, topic: str, rate: float, seconds: float) -> float:
    """The broker's CPU (% of a core) while ``rate`` 100-byte messages a second are written and
    each acknowledged (0: nothing written)."""
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=0) if rate else None
    try:
        cpu0, wall0, sent = cpu_seconds(broker.process.pid), time.perf_counter(), 0
        while time.perf_counter() - wall0 < seconds:
            if producer is not None:
                producer.send(topic, b"x" * 100).get(10)
                sent += 1
                pause = wall0 + sent / rate - time.perf_counter()
            else:
                pause = seconds - (time.perf_counter() - wall0)
            if pause > 0:
                time.sleep(pause)
        return round(100 * (cpu_seconds(broker.process.pid) - cpu0) / (time.perf_counter() - wall0), 1)
    finally:
        if producer is not None:
            producer.close()


def trickle_cpu(broker, topic: str, seconds: float = 5.0) -> dict:
    """The broker's CPU while one 100-byte message a 100 ms is written and acknowledged: what it
    costs to take a write, whatever it already holds."""
    return {"broker_cpu_pct_of_a_core": broker_cpu(broker, topic, 10, seconds)}


def engine_floor(home: Path, costed: list[tuple[bytes, bytes]], flush_rows: int) -> dict:
    """CPU of the engine inserting the sink's rows, encoded before the clock."""
    store = Store(f"chdb://{home / 'clickhouse'}", "floor")
    migrate(store, 30)
    writer = CostedCallsWriter()
    rows = []
    for offset, (_, value) in enumerate(costed):
        made, failures = writer.to_rows(value, 0, offset)
        assert not failures, failures[:1]
        rows += made
    rows = keep_latest(rows)
    payloads = [encode_rows(rows[i:i + flush_rows]) for i in range(0, len(rows), flush_rows)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for n, payload in enumerate(payloads):
        store.insert_raw(writer.table, payload, writer.columns, fmt=ROWS_FORMAT, dedup_token=f"floor-{n}",
                         settings=INSERT_SETTINGS)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    _, tables = store.rows("SELECT DISTINCT table FROM system.parts WHERE database = currentDatabase() AND active")
    merge0 = time.process_time()  # not in the floor (merges run later, in the background, and less often):
    for (table,) in tables:        # what merging every part of every table into one once costs
        store.command(f"OPTIMIZE TABLE `{table}` FINAL")
    merge_cpu = time.process_time() - merge0
    _, check = store.rows("SELECT count(), uniqExact(event_id) FROM ai_calls")
    _, rollup = store.rows("SELECT sum(calls) FROM ai_calls_daily")
    assert check[0][0] == check[0][1] == len(rows) == rollup[0][0], (check, rollup, len(rows))
    store.close()
    return {"rows": len(rows), "inserts": len(payloads), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "cpu_us_per_event": round(cpu / len(rows) * 1e6, 1),
            "one_full_merge_cpu_us_per_event": round(merge_cpu / len(rows) * 1e6, 1)}


def run(args) -> dict:
    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-floor-"))
    start = start_tansu if args.broker == "tansu" else start_broker
    broker = start(home / "broker", free_port())
    try:
        settings = ApiSettings(home=home, kafka_bootstrap=broker.bootstrap, partitions=args.partitions)
        create_topics(settings)
        raw = raw_messages(args.events, args.seed)
        costed = costed_messages(args.events, 200, args.seed)
        raw_topic, costed_topic = settings.topic(topics.RAW), settings.topic(topics.COSTED)
        load_before = load_average()
        steps = [("write raw", lambda: write(broker.bootstrap, raw_topic, raw)),
                 ("read raw (worker)", lambda: read(broker.bootstrap, raw_topic, len(raw), args.timeout)),
                 ("write costed (worker)", lambda: write(broker.bootstrap, costed_topic, costed)),
                 ("read costed (statistics)", lambda: read(broker.bootstrap, costed_topic, len(costed), args.timeout)),
                 ("read costed (sink)", lambda: read(broker.bootstrap, costed_topic, len(costed), args.timeout))]
        trickle = {"empty": trickle_cpu(broker, settings.topic(topics.DLQ))}
        parts = {}
        for name, step in steps:
            broker0, client0, wall0 = cpu_seconds(broker.process.pid), time.process_time(), time.perf_counter()
            step()
            parts[name] = {"broker_us": round((cpu_seconds(broker.process.pid) - broker0) / args.events * 1e6, 1),
                           "client_us": round((time.process_time() - client0) / args.events * 1e6, 1),
                           "wall_s": round(time.perf_counter() - wall0, 2)}
            print(f"{name}: {parts[name]}", file=sys.stderr)
        trickle["after the floor's traffic"] = trickle_cpu(broker, settings.topic(topics.DLQ))
        print(f"trickle of 10 writes/s: {trickle}", file=sys.stderr)
        engine = engine_floor(home, costed, args.flush_rows)
        print(f"engine: {engine}", file=sys.stderr)
        broker_us = round(sum(p["broker_us"] for p in parts.values()), 1)
        client_us = round(sum(p["client_us"] for p in parts.values()), 1)
        floor = round(broker_us + client_us + engine["cpu_us_per_event"], 1)
        return {
            "broker": args.broker,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "load_average_1m": [load_before, load_average()],
            "events": args.events,
            "raw_bytes_per_event": round(sum(len(v) for _, v in raw) / args.events),
            "costed_bytes_per_event": round(sum(len(v) for _, v in costed) / args.events),
            "steps": parts,
            "engine": engine,
            "broker_us_per_event": broker_us,
            "client_us_per_event": client_us,
            "floor_us_per_event": floor,
            "budget_us_per_event_at_20000": BUDGET_US,
            "ceiling_events_per_s_on_2_cores": round(2e6 / floor),
            "trickle_10_writes_per_s": trickle,
        }
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops the broker
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--broker", choices=("noida", "tansu"), default="noida")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--flush-rows", type=int, default=10_000, help="rows per insert (20,000/s at a 0.5 s flush)")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2))
    runs = []
    if RESULTS.exists():
        runs = [r for r in json.loads(RESULTS.read_text()).get("runs", []) if r.get("broker") != args.broker]
    runs.append(result)
    RESULTS.write_text(json.dumps({"benchmark": "benchmarks/bench_floor.py", "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
