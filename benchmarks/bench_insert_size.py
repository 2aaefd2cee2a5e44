"""What one insert's size does to the engine's CPU per row: the figure behind the sink's flush
defaults (``AILEDGER_FLUSH_ROWS``, ``AILEDGER_FLUSH_MAX_SECONDS``; :mod:`consumers.sink.pacing`).

    python benchmarks/bench_insert_size.py [--events 40000] [--sizes 1000,2500,5000,10000,20000,40000]

For each size, a fresh embedded ClickHouse (chDB, one process per size: one data directory per
process) takes the same sink rows (demo traffic, priced, built and encoded before the clock) in
inserts of that many rows into ``ai_calls`` with every rollup view, each with a dedup token
(:func:`benchmarks.bench_floor.engine_floor`). Reported: the process's CPU per row of the
inserts, and of one full merge afterwards (beside it, not in it). Results go to
``benchmarks/results/insert_size.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_pipeline import machine  # noqa: E402
from benchmarks.bench_sink import costed_messages, load_average  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "insert_size.json"


def one_size(events: int, size: int, seed: int) -> dict:
    """The engine's CPU for ``events`` rows in inserts of ``size`` rows (in this process)."""
    from benchmarks.bench_floor import engine_floor

    home = Path(tempfile.mkdtemp(prefix="ailedger-bench-insert-"))
    try:
        return engine_floor(home, costed_messages(events, 200, seed), size)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--sizes", default="1000,2500,5000,10000,20000,40000")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in a child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.events, args.one, args.seed)))
        return
    load_before = load_average()
    sizes = {}
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--events", str(args.events), "--seed", str(args.seed),
                              "--one", str(size)], check=True, capture_output=True, text=True).stdout
        sizes[size] = json.loads(out.strip().splitlines()[-1])
        print(f"{size:>6} rows an insert: {sizes[size]}", file=sys.stderr)
    result = {
        "benchmark": "benchmarks/bench_insert_size.py",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_1m": [load_before, load_average()],
        "events": args.events,
        "cpu_us_per_row_by_insert_rows": {size: r["cpu_us_per_event"] for size, r in sizes.items()},
        "runs": sizes,
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
