"""End-to-end benchmark: SDK-format batches -> broker -> Faust worker -> sink -> ClickHouse
(with every rollup), on this machine; and the design documents' baseline (a synchronous
SQLite insert plus an aggregate upsert per call).

    python benchmarks/bench_pipeline.py [--events 200000] [--rate 20000] [--seconds 30]

Reports sustained events/s (flood: publish everything, time until all are queryable) with each
process's CPU per event, and produce-to-queryable latency p50/p99 at a fixed offered rate
(ingested_at - produced time): right after the flood (``paced``, while the worker's later stages
still catch up), and again once the pipeline is steady (``paced_steady``). Then the same at a
high offered rate (``paced_high``, ``--high-rate``): the honest test of a sustained rate, with
the producer on the same cores and every event's latency measured; a rate the pipeline does not
sustain shows as latency that grows with the run. ``--high-only`` runs only that, with each
process's CPU per event (for A/B comparisons; nothing is written).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ailedger import gc_tuning  # noqa: E402
from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402
from ailedger.demo_traffic import generate  # noqa: E402
from ailedger.processes import settings_env, spawn, stop, wait_for_log, worker_command  # noqa: E402
from ailedger.publishing import BatchPublisher  # noqa: E402
from ailedger.settings import ApiSettings, CommonSettings, WorkerSettings  # noqa: E402
from ailedger.topics import create_topics  # noqa: E402
from benchmarks.cpu_clock import (  # noqa: E402
    ServeProcessClock, cpu_seconds, machine_seconds, python_threads_seconds, threads_used)
from consumers.serve import Services  # noqa: E402
from schemas.codec import event_to_dict  # noqa: E402


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


#: The packages whose versions move the figures (a fresh install takes the newest allowed).
KEY_PACKAGES = ("faust-streaming", "mode-streaming", "aiokafka", "kafka-python", "pydantic", "pydantic-core",
                "orjson", "rocksdict", "chdb", "clickhouse-connect", "genai-prices")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`KEY_PACKAGES` (recorded with every pipeline run)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


SINK = "sink (and the benchmark's count queries)"


def stored(store) -> int:
    return int(store.rows("SELECT count() FROM ai_calls")[1][0][0])


def flood(settings, store, count: int, seed: int, processes: dict[str, int] | None = None) -> dict:
    """Publish ``count`` events as fast as possible from a separate producer process (as producers
    are other services; it generates its events before the clock starts); time until all are
    queryable. ``processes`` (name -> pid) get their CPU per event reported, as does the producer."""
    processes = dict(processes or {})
    base = stored(store)
    env = settings_env(settings)
    child = subprocess.Popen([sys.executable, __file__, "--publish", str(count), "--seed", str(seed)], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    processes["producer"] = child.pid
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    machine_before = machine_seconds()
    flood_started = datetime.now(timezone.utc)
    started = time.perf_counter()
    child.stdin.write("go\n")
    child.stdin.flush()
    published = float(child.stdout.readline())
    cpu_used = {"producer": cpu_seconds(child.pid) - cpu_before.pop("producer")}
    child.wait(60)
    while stored(store) < base + count:
        time.sleep(0.25)  # each count is a query in the sink's process: don't make it the load
    total = time.perf_counter() - started
    busy, stolen = (after - before for after, before in zip(machine_seconds(), machine_before))
    cpu_used.update({name: cpu_seconds(processes[name]) - before for name, before in cpu_before.items()})
    return {"events": count, "publish_s": round(published, 2), "queryable_s": round(total, 2),
            "events_per_s": round(count / total), **steady_rate(store, flood_started),
            "machine_busy_percent": round(100 * busy / (total * os.cpu_count())),
            "stolen_percent": round(100 * stolen / (total * os.cpu_count()), 1),
            "cpu_us_per_event": {name: round(used * 1e6 / count, 1) for name, used in cpu_used.items()}}


def steady_rate(store, since: datetime) -> dict:
    """Events per second between the flood's first and last insert into ``ai_calls``: the rows of
    every insert but the first, over the time from the first insert to the last (each insert's
    rows share one ``ingested_at``). Unlike the overall rate it leaves out the first batches'
    trip through an idle pipeline; the producer still runs on the same cores meanwhile."""
    _, inserts = store.rows(
        "SELECT ingested_at, count() FROM ai_calls WHERE ingested_at >= {since:DateTime64(3, 'UTC')} "
        "GROUP BY ingested_at ORDER BY ingested_at", {"since": since})
    seconds = (inserts[-1][0] - inserts[0][0]).total_seconds() if len(inserts) >= 3 else 0
    return {"steady_events_per_s": round(sum(n for _, n in inserts[1:]) / seconds) if seconds else None,
            "inserts": len(inserts), "first_insert_rows": inserts[0][1] if inserts else 0}


def at_rest(processes: dict[str, int], seconds: float) -> dict[str, float]:
    """Percent of one core each process uses while nothing is published (idle polling,
    heartbeats, timers), after ``seconds / 2`` to settle."""
    time.sleep(seconds / 2)
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    threads_before = python_threads_seconds()
    time.sleep(seconds)
    threads = {name: round(used * 100 / seconds, 1) for name, used in threads_used(threads_before).items()}
    return {**{name: round((cpu_seconds(pid) - before[name]) * 100 / seconds, 1) for name, pid in processes.items()},
            "this process's Python threads": dict(sorted(threads.items(), key=lambda kv: -kv[1]))}


def publish_only(count: int, seed: int) -> None:
    """The flood's producer process: generate, say ready, publish on "go", print the seconds taken."""
    events = list(generate(count, seed=seed))
    publisher = BatchPublisher(CommonSettings())
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    publisher.add_all(events)
    publisher.flush()
    print(time.perf_counter() - started, flush=True)
    publisher.close()


def paced(settings, store, rate: int, seconds: float, processes: dict[str, int] | None = None,
          serve_clock: ServeProcessClock | None = None) -> dict:
    """Offer ``rate`` events/s for ``seconds`` from a producer process; latency = insert time -
    event time (each event's ``occurred_at`` is set when it is published). ``processes`` (name ->
    pid) get their CPU per event reported, from the start until every event is stored."""
    from benchmarks.bench_worker import messages_written  # it imports this module

    processes = dict(processes or {})
    marker = uuid.uuid4().hex[:8]
    worker = worker_settings(settings)
    written_before = messages_written(worker) if processes else {}
    child = subprocess.Popen([sys.executable, __file__, "--paced", str(rate), "--seconds", str(seconds),
                              "--marker", marker], env=settings_env(settings), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    processes["producer"] = child.pid
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    main_before = {name: cpu_seconds(pid, pid) for name, pid in processes.items() if name.startswith("worker")}
    if serve_clock:
        serve_clock.start()
    child.stdin.write("go\n")
    child.stdin.flush()
    sent = int(child.stdout.readline())
    cpu_used = {"producer": cpu_seconds(child.pid) - cpu_before.pop("producer")}
    child.wait(60)
    deadline = time.monotonic() + 120
    query = "SELECT count() FROM ai_calls WHERE source = {s:String}"
    while int(store.rows(query, {"s": f"bench-{marker}"})[1][0][0]) < sent and time.monotonic() < deadline:
        time.sleep(0.1)
    cpu_used.update({name: cpu_seconds(processes[name]) - before for name, before in cpu_before.items()})
    main_used = {name: cpu_seconds(processes[name], processes[name]) - before for name, before in main_before.items()}
    serve_split = serve_clock.per_event(sent) if serve_clock else None
    _, rows = store.rows(
        "SELECT count(), quantileExact(0.5)(d), quantileExact(0.99)(d), max(d), "
        "quantileExact(0.5)(p), quantileExact(0.99)(p), quantileExact(0.5)(d - p), quantileExact(0.99)(d - p) FROM "
        "(SELECT dateDiff('millisecond', occurred_at, ingested_at) AS d, "
        "dateDiff('millisecond', occurred_at, priced_at) AS p FROM ai_calls WHERE source = {s:String})",
        {"s": f"bench-{marker}"})
    count, p50, p99, worst, priced_p50, priced_p99, stored_p50, stored_p99 = rows[0]
    written = messages_written(worker) if processes else {}
    return {"offered_rate": rate, "seconds": seconds, "sent": sent, "stored": count,
            "latency_ms_p50": p50, "latency_ms_p99": p99, "latency_ms_max": worst,
            # where the time goes: publish -> priced (SDK, broker, pricing), priced -> stored (sink)
            "to_priced_ms_p50": priced_p50, "to_priced_ms_p99": priced_p99,
            "priced_to_stored_ms_p50": stored_p50, "priced_to_stored_ms_p99": stored_p99,
            **({"cpu_us_per_event": {name: round(used * 1e6 / sent, 1) for name, used in cpu_used.items()},
                **({"sink_split_us_per_event": serve_split} if serve_split else {}),
                # a worker's main thread runs the agents (Faust's event loop); aiokafka's consumer
                # thread and the views' kafka-python threads are the rest
                "worker_main_thread_us_per_event": {name: round(used * 1e6 / sent, 1)
                                                    for name, used in main_used.items()},
                # the costed messages, the tables' changelogs and the live views, as bench_worker.py counts them
                "messages_per_1000_events": {name: round((n - written_before.get(name, 0)) * 1000 / sent, 1)
                                             for name, n in sorted(written.items())
                                             if n > written_before.get(name, 0)}}
               if len(cpu_used) > 1 else {})}


def worker_settings(settings) -> WorkerSettings:
    """The worker's settings (its app id names its changelogs) as the worker derives them."""
    return WorkerSettings(**settings.model_dump(include=set(CommonSettings.model_fields)))


def paced_only(rate: int, seconds: float, marker: str) -> None:
    """The paced run's producer process: events stamped at publish time, every 50 ms."""
    # fresh event ids each run: the worker drops ids it priced lately (a producer's duplicates),
    # so a second run with the generator's ids would be dropped whole. The events are put in
    # their wire form before the clock starts, as the flood's producer does, and only stamped
    # with the time at publish (copying each event model for it cost the producer ~6 µs, and
    # converting it ~9 µs, per event on the pipeline's cores; bench_sdk.py measures the SDK).
    source = [event_to_dict(e.model_copy(update={"source": f"bench-{marker}", "event_id": uuid.uuid4()}))
              for e in generate(int(rate * (seconds + 1)), days=0, seed=11)]
    publisher = BatchPublisher(CommonSettings())
    print("ready", flush=True)
    sys.stdin.readline()
    sent, tick, started = 0, 0.05, time.perf_counter()
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started + tick) * rate)
        now = datetime.now(timezone.utc)
        while sent < due:
            item = source[sent]  # each is published once
            item["occurred_at"] = now
            publisher.add_item(item)
            sent += 1
        publisher.flush()
        pause = started + (sent / rate) - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    publisher.close()
    print(sent, flush=True)


def sqlite_baseline(events) -> dict:
    """The design documents' approach: per call, a synchronous insert plus an aggregate upsert."""
    path = Path(tempfile.mkdtemp()) / "baseline.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE llm_metrics (id TEXT PRIMARY KEY, user_id TEXT, model TEXT, prompt_tokens INT, "
               "response_tokens INT, duration_ms REAL, cost TEXT, created_at TEXT)")
    db.execute("CREATE TABLE usage_daily (day TEXT, user_id TEXT, model TEXT, calls INT, tokens INT, "
               "PRIMARY KEY (day, user_id, model))")
    started = time.perf_counter()
    samples = []
    for e in events:
        t0 = time.perf_counter()
        db.execute("INSERT INTO llm_metrics VALUES (?,?,?,?,?,?,?,?)",
                   (str(e.event_id), e.user_id, e.model, e.input_tokens, e.output_tokens, e.latency_ms, "0",
                    e.occurred_at.isoformat()))
        db.execute("INSERT INTO usage_daily VALUES (?,?,?,1,?) ON CONFLICT(day, user_id, model) DO UPDATE SET "
                   "calls = calls + 1, tokens = tokens + excluded.tokens",
                   (e.occurred_at.date().isoformat(), e.user_id, e.model, e.total_tokens))
        samples.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    db.close()
    shutil.rmtree(path.parent, ignore_errors=True)
    samples.sort()
    return {"events": len(events), "events_per_s": round(len(events) / total),
            "added_us_p50": round(samples[len(samples) // 2] * 1e6), "added_us_p99": round(samples[int(len(samples) * 0.99)] * 1e6)}


def worker_env(settings, home: Path, n: int, count: int, stages_apart: bool = False) -> dict[str, str]:
    """One worker's environment: with several, each has its own data dir and instance id; with
    the stages apart, the even ones price and the odd ones keep the live statistics."""
    role = {"AILEDGER_WORKER_STAGES": "apart", "AILEDGER_WORKER_ROLE": "statistics" if n % 2 else "pricing"} \
        if stages_apart else {}
    if count == 1:
        return settings_env(settings, **role)
    return settings_env(settings, AILEDGER_HOME=str(home / f"worker{n}"), AILEDGER_INSTANCE_ID=f"bench-{n}", **role)


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a timeout still stops broker and worker
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="Faust worker processes (one consumer group)")
    parser.add_argument("--stages-apart", action="store_true",
                        help="AILEDGER_WORKER_STAGES=apart: worker 0 prices, worker 1 keeps the live statistics")
    parser.add_argument("--high-rate", type=int, default=15_000, help="offered rate of the keep-up run (0: none)")
    parser.add_argument("--high-seconds", type=float, default=20)
    parser.add_argument("--flood-only", action="store_true",
                        help="only the flood (for A/B comparisons); nothing is written to results/")
    parser.add_argument("--high-only", action="store_true",
                        help="only the keep-up run (--high-rate), with CPU per event; nothing is written to results/")
    parser.add_argument("--idle-only", type=float, metavar="SECONDS",
                        help="only each process's CPU at rest over SECONDS after the warm-up; nothing is written")
    parser.add_argument("--broker", choices=("noida", "tansu"), default="noida",
                        help="noida-db keeps its whole log in one JSON file and slows down past ~100 MB; "
                             "Tansu keeps it in memory")
    parser.add_argument("--publish", type=int, help=argparse.SUPPRESS)  # the flood's producer process
    parser.add_argument("--seed", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--paced", type=int, help=argparse.SUPPRESS)  # the paced run's producer process
    parser.add_argument("--marker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_apart and args.workers < 2:
        parser.error("--stages-apart needs --workers 2 or more (one per stage)")
    if args.publish:
        return publish_only(args.publish, args.seed)
    if args.paced:
        return paced_only(args.paced, args.seconds, args.marker)
    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-"))
    broker = (start_tansu if args.broker == "tansu" else start_broker)(home / "broker", free_port())
    settings = ApiSettings(home=home, kafka_bootstrap=broker.bootstrap, partitions=args.partitions,
                           clickhouse_dsn=f"chdb://{home / 'clickhouse'}", clickhouse_database="bench",
                           worker_stages="apart" if args.stages_apart else "together")
    create_topics(settings)
    workers = [spawn(worker_command("warn"), worker_env(settings, home, n, args.workers, args.stages_apart),
                     home / f"worker{n}.log") for n in range(args.workers)]
    worker, worker_log = workers[0], home / "worker0.log"
    services = None
    try:
        wait_for_log(worker, worker_log, "", timeout=5)
        services = Services(settings).start()
        gc_tuning.tune(settings.gc_thresholds)  # this process is the serve process (sinks), as `ailedger serve`
        flood(settings, services.store, 2000, seed=1)  # warm-up: worker joined, caches filled
        if args.workers > 1:  # the group settles (noida-db completes a join after the rebalance timeout)
            time.sleep(15)
            flood(settings, services.store, 2000, seed=4)
        worker_pids = {("worker" if n == 0 else f"worker {n + 1}"): w.pid for n, w in enumerate(workers)}
        if args.idle_only:
            print(json.dumps(at_rest({"broker": broker.process.pid, **worker_pids, "services": os.getpid()},
                                     args.idle_only), indent=2))
            return
        results = {"machine": machine(), "date": datetime.now(timezone.utc).date().isoformat(),
                   "broker": args.broker, "partitions": args.partitions, "workers": args.workers,
                   **({"stages": "apart"} if args.stages_apart else {}), "compression": settings.compression,
                   "load_average_at_start": os.getloadavg()[0], "packages": package_versions()}
        measured = {"broker": broker.process.pid, **worker_pids, SINK: os.getpid()}
        if args.high_only:
            results["paced_high"] = paced(settings, services.store, args.high_rate, args.high_seconds, measured,
                                          ServeProcessClock(services.store))
            print(json.dumps(results, indent=2))
            return
        results["flood"] = flood(settings, services.store, args.events, seed=2, processes=measured)
        if args.flood_only:
            print(json.dumps(results, indent=2))
            return
        results["paced"] = paced(settings, services.store, args.rate, args.seconds)
        time.sleep(15)  # let the worker's later stages catch up: then the same rate on a steady pipeline
        results["paced_steady"] = paced(settings, services.store, args.rate, args.seconds)
        if args.high_rate:
            time.sleep(5)
            results["paced_high"] = paced(settings, services.store, args.high_rate, args.high_seconds, measured,
                                          ServeProcessClock(services.store))
        results["baseline_sqlite"] = sqlite_baseline(list(generate(50_000, seed=3)))
        text = json.dumps(results, indent=2, default=str)
        print(text)
        out = Path(__file__).parent / "results" / f"pipeline-{args.broker}.json"
        out.write_text(text + "\n")
    finally:
        if services is not None:
            services.stop()
        for w in workers:
            stop(w)
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
