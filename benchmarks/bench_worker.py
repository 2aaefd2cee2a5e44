"""The Faust worker alone: after a warm-up, raw events are published as fast as this process
can, and the clock runs until every one is priced and the live statistics have caught up (the
worker group's committed offsets reach the end of the raw and costed topics). Pricing,
statistics, snapshots, daily usage and alerts all run. The worker's CPU is counted over the same
window, so it covers all of its work on these events. The messages the worker wrote per 1,000
events are counted by topic (costed calls, each table's changelog, the live views): per-key
table writes and sends are a large part of its cost.

    python benchmarks/bench_worker.py [--events 60000] [--broker noida|tansu] [--days 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

from ailedger import topics  # noqa: E402
from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402
from ailedger.demo_traffic import generate  # noqa: E402
from ailedger.lag import group_lag  # noqa: E402
from ailedger.processes import settings_env, spawn, stop, worker_command  # noqa: E402
from ailedger.publishing import BatchPublisher  # noqa: E402
from ailedger.settings import WorkerSettings  # noqa: E402
from ailedger.topics import create_topics  # noqa: E402
from benchmarks.bench_pipeline import machine, package_versions  # noqa: E402
from benchmarks.cpu_clock import cpu_seconds  # noqa: E402


def lag(settings: WorkerSettings, name: str) -> int:
    """Messages of topic ``name`` the worker group has not committed yet (:func:`ailedger.lag.group_lag`)."""
    behind = group_lag(settings.bootstrap_servers, settings.app_id, settings.topic(name))
    if behind is None:
        raise SystemExit(f"the broker has no topic {settings.topic(name)}")
    return behind


def messages_written(settings: WorkerSettings) -> dict[str, int]:
    """Messages on each topic of this run (sum of end offsets), by name without the prefix:
    the costed topic, the tables' changelogs and the live views."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        names = [name for name in consumer.topics() if name.startswith(settings.topic_prefix) or "changelog" in name]
        tps = [TopicPartition(name, p) for name in names for p in (consumer.partitions_for_topic(name) or ())]
        out: dict[str, int] = {}
        for tp, end in consumer.end_offsets(tps).items():
            short = tp.topic.removeprefix(settings.topic_prefix).removeprefix(f"{settings.app_id}-")
            out[short] = out.get(short, 0) + end
        return out
    finally:
        consumer.close()


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (``VmHWM``), in MiB; ``None`` off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def publish(settings: WorkerSettings, events) -> None:
    publisher = BatchPublisher(settings)
    publisher.add_all(events)
    publisher.flush()
    publisher.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--broker", choices=("noida", "tansu"), default="noida")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--days", type=float, default=7,
                        help="the events' times spread over this many days (0.01: live traffic, all within minutes)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-worker-"))
    broker = (start_tansu if args.broker == "tansu" else start_broker)(home / "broker", free_port())
    settings = WorkerSettings(home=home, kafka_bootstrap=broker.bootstrap, partitions=args.partitions,
                              app_id="bench-worker")
    create_topics(settings)
    log = home / "worker.log"
    worker = spawn(worker_command("warn"), settings_env(settings, AILEDGER_APP_ID="bench-worker"), log)
    try:
        publish(settings, generate(400, seed=99))  # warm-up: the worker has joined and filled its caches
        deadline = time.monotonic() + 180
        while lag(settings, topics.RAW) or lag(settings, topics.COSTED):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"the worker did not process the warm-up; see {log}")
            time.sleep(0.2)
        # The clock and the CPU count start before the events are published, so every event's
        # work is inside the window (counting from the worker's first commit, as before, left out
        # whatever it did before that commit: up to a quarter of the events, in some runs only).
        events = list(generate(args.events, days=args.days, seed=4))
        written_before = messages_written(settings)
        cpu_before = cpu_seconds(worker.pid)
        started = time.perf_counter()
        publish(settings, events)
        priced_s = None
        while True:
            raw_lag, costed_lag = lag(settings, topics.RAW), lag(settings, topics.COSTED)
            now = time.perf_counter() - started
            if priced_s is None and raw_lag == 0:
                priced_s = now
            if raw_lag == 0 and costed_lag == 0 and now > 1:
                break
            if now > 900:
                raise SystemExit(f"not caught up after 900 s (raw lag {raw_lag}, costed lag {costed_lag})")
            time.sleep(0.5)
        total = time.perf_counter() - started
        result = {"machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "load_average_at_start": os.getloadavg()[0], "broker": args.broker, "events": args.events,
                  "days": args.days,
                  "compression": settings.compression,
                  "priced_s": round(priced_s, 1), "caught_up_s": round(total, 1),
                  "events_per_s_priced": round(args.events / priced_s),
                  "events_per_s_all_stages": round(args.events / total),
                  "worker_cpu_s": round(cpu_seconds(worker.pid) - cpu_before, 1)}
        result["worker_cpu_us_per_event"] = round(result["worker_cpu_s"] * 1e6 / args.events, 1)
        result["worker_peak_rss_mb"] = peak_rss_mb(worker.pid)
        written = messages_written(settings)
        result["messages_per_1000_events"] = {
            name: round((count - written_before.get(name, 0)) * 1000 / args.events, 1)
            for name, count in sorted(written.items()) if count > written_before.get(name, 0)}
        result["packages"] = package_versions()
        print(json.dumps(result, indent=2))
        (Path(__file__).parent / "results" / f"worker-{args.broker}.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        stop(worker)
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
