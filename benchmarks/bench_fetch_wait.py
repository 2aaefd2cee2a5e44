"""Benchmark: delivery latency of one consumer by ``fetch_max_wait_ms``, per broker.

    python benchmarks/bench_fetch_wait.py [--brokers tansu,noida] [--waits 1500,500,100,20]

A producer sends one record every 50 ms for 6 s to a 1-partition topic; a kafka-python
consumer (no group) polls it. Latency is receive time minus send time (the record carries it).
Kafka answers a held fetch as soon as data arrives, so ``fetch_max_wait_ms`` costs it nothing;
a broker that holds the fetch for the full wait (Tansu) adds up to that wait to every hop, which
is why the pipeline's consumers use ``AILEDGER_FETCH_MAX_WAIT_MS`` (100 ms).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402


def latencies(bootstrap: str, wait_ms: int, seconds: float = 6.0, every: float = 0.05) -> list[float]:
    topic = f"fetch-wait-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest",
                             fetch_max_wait_ms=wait_ms)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    try:
        while not consumer.assignment():
            consumer.poll(200)
        consumer.poll(500)
        stop = time.monotonic() + seconds

        def produce() -> None:
            while time.monotonic() < stop:
                producer.send(topic, str(time.time()).encode())
                producer.flush()
                time.sleep(every)

        thread = threading.Thread(target=produce)
        thread.start()
        got: list[float] = []
        while time.monotonic() < stop + 2:
            for messages in consumer.poll(100).values():
                now = time.time()
                got += [now - float(m.value) for m in messages]
        thread.join()
        return sorted(got)
    finally:
        consumer.close()
        producer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", default="tansu,noida")
    parser.add_argument("--waits", default="1500,500,100,20")
    args = parser.parse_args()
    print("| broker | fetch_max_wait_ms | records | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|")
    for name in args.brokers.split(","):
        home = Path(tempfile.mkdtemp(prefix="ailedger-fetch-wait-"))
        broker = (start_tansu if name == "tansu" else start_broker)(home / "broker", free_port())
        try:
            for wait in (int(w) for w in args.waits.split(",")):
                lat = latencies(broker.bootstrap, wait)
                p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(f"| {name} | {wait} | {len(lat)} | {p50 * 1000:.0f} | {p99 * 1000:.0f} |")
        finally:
            broker.stop()
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
