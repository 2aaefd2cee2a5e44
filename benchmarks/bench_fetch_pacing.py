"""Benchmark: fetch requests/s and client CPU of an idle consumer, with and without
:mod:`ailedger.kafka_pacing`, for aiokafka and kafka-python, on noida-db and on Tansu.

    python benchmarks/bench_fetch_pacing.py [--seconds 10] [--brokers noida,tansu]

Each case runs in its own process (a group member of a fresh 4-partition topic, nothing
published); after the group settles it counts fetch requests and the process's CPU seconds
(all threads) over ``--seconds``, plus the broker's CPU seconds over the same window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402


def _broker_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _case(client: str, bootstrap: str, broker_pid: int, paced: bool, seconds: float) -> dict:
    from kafka.admin import KafkaAdminClient, NewTopic

    from ailedger import kafka_pacing

    topic = f"pace-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 4, 1)])
    admin.close()
    if paced:
        kafka_pacing.install()
    count = [0]
    if client == "aiokafka":
        import aiokafka
        from aiokafka.client import AIOKafkaClient

        send = AIOKafkaClient.send

        def counting_send(self, node_id, request, *args, **kwargs):
            if type(request).__name__.startswith("FetchRequest"):
                count[0] += 1
            return send(self, node_id, request, *args, **kwargs)

        AIOKafkaClient.send = counting_send

        async def run() -> tuple[int, float, float]:
            consumer = aiokafka.AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic)
            await consumer.start()
            deadline = time.monotonic() + 30
            while not consumer.assignment() and time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=200)
            await consumer.getmany(timeout_ms=1000)
            start, cpu, bcpu = count[0], time.process_time(), _broker_cpu(broker_pid)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await consumer.getmany(timeout_ms=200)
            result = count[0] - start, time.process_time() - cpu, _broker_cpu(broker_pid) - bcpu
            await consumer.stop()
            return result

        fetches, cpu, broker_cpu = asyncio.run(run())
    else:
        from kafka import KafkaConsumer
        from kafka.consumer.fetcher import Fetcher

        create = Fetcher._create_fetch_requests

        def counting_create(self):
            requests = create(self)
            count[0] += len(requests)
            return requests

        Fetcher._create_fetch_requests = counting_create
        consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic)
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
        consumer.poll(timeout_ms=1000)
        start, cpu, bcpu = count[0], time.process_time(), _broker_cpu(broker_pid)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            consumer.poll(timeout_ms=100)  # the sink's cadence
        fetches, cpu, broker_cpu = count[0] - start, time.process_time() - cpu, _broker_cpu(broker_pid) - bcpu
        consumer.close()
    return {"fetches_per_s": fetches / seconds, "client_cpu_s": cpu, "broker_cpu_s": broker_cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--brokers", default="noida,tansu")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # client,bootstrap,pid,paced (child process)
    args = parser.parse_args()
    if args.case:
        client, bootstrap, pid, paced = args.case.split(",")
        print(json.dumps(_case(client, bootstrap, int(pid), paced == "1", args.seconds)))
        return
    print(f"idle consumer, 4-partition topic, {args.seconds:.0f} s per case, "
          f"backoff {os.environ.get('AILEDGER_FETCH_EMPTY_BACKOFF_MS', 'default')} ms")
    print("| broker | client | shim | fetches/s | client CPU s | broker CPU s |")
    print("|---|---|---|---:|---:|---:|")
    for kind in args.brokers.split(","):
        start = start_tansu if kind == "tansu" else start_broker
        home = Path(tempfile.mkdtemp(prefix="ailedger-pace-"))
        broker = start(home, free_port())
        try:
            for client in ("aiokafka", "kafka-python"):
                for paced in (False, True):
                    out = subprocess.run(
                        [sys.executable, __file__, "--seconds", str(args.seconds),
                         "--case", f"{client},{broker.bootstrap},{broker.process.pid},{int(paced)}"],
                        capture_output=True, text=True, check=True).stdout
                    r = json.loads(out.strip().splitlines()[-1])
                    print(f"| {kind} | {client} | {'on' if paced else 'off'} | {r['fetches_per_s']:,.1f} "
                          f"| {r['client_cpu_s']:.2f} | {r['broker_cpu_s']:.2f} |", flush=True)
        finally:
            broker.stop()
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
