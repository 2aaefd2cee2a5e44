"""What a broker costs to keep taking writes, by how much it holds and how often it is written.

noida-db keeps its whole log in one JSON file and rewrites it while anything is written. This
loads the raw topic in steps (uncompressed SDK-format batches, as ``bench_floor.py`` writes
them) and after each step measures the broker's CPU while one 100-byte message is written and
acknowledged at a slow and at a faster rate, and while nothing is written. If the cost follows
the size and not the rate, writing fewer, larger messages cannot lower it.

    python benchmarks/bench_broker_tax.py [--broker noida|tansu] [--sizes 25000,50000,100000,200000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ailedger import topics  # noqa: E402
from ailedger.broker import free_port, start_broker, start_tansu  # noqa: E402
from ailedger.settings import ApiSettings  # noqa: E402
from ailedger.topics import create_topics  # noqa: E402
from benchmarks.bench_floor import broker_cpu, raw_messages, write  # noqa: E402
from benchmarks.bench_pipeline import machine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", choices=("noida", "tansu"), default="noida")
    parser.add_argument("--sizes", default="25000,50000,100000,200000", help="events held at each step")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--write", action="store_true", help="replace this broker's run in results/broker_tax.json")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-tax-"))
    broker = (start_tansu if args.broker == "tansu" else start_broker)(home / "broker", free_port())
    steps = []
    try:
        settings = ApiSettings(home=home, kafka_bootstrap=broker.bootstrap, partitions=4)
        create_topics(settings)
        held = 0
        for size in (int(s) for s in args.sizes.split(",")):
            write(broker.bootstrap, settings.topic(topics.RAW), raw_messages(size - held, seed=size))
            held = size
            broker_cpu(broker, settings.topic(topics.DLQ), 0, 3)  # let the load's own rewrite end
            on_disk = sum(f.stat().st_size for f in (home / "broker").rglob("*") if f.is_file())
            step = {"events_held": size, "mb_on_disk": round(on_disk / 1e6),
                    "broker_pct_of_a_core": {f"{rate} writes/s": broker_cpu(broker, settings.topic(topics.DLQ), rate,
                                                                            args.seconds)
                                             for rate in (0, 2, 20)}}
            print(step, file=sys.stderr)
            steps.append(step)
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)
    result = {"broker": args.broker, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "steps": steps}
    print(json.dumps(result, indent=2))
    if args.write:
        out = Path(__file__).parent / "results" / "broker_tax.json"
        runs = json.loads(out.read_text())["runs"] if out.exists() else []
        runs = [r for r in runs if r["broker"] != args.broker] + [result]
        out.write_text(json.dumps({"benchmark": "benchmarks/bench_broker_tax.py", "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
