"""``make bench``: every benchmark, one after the other (they share the machine's 2 cores, so
never in parallel). Results are printed and written under benchmarks/results/; BENCHMARKS.md
summarises them with the machine and date.

    python benchmarks/run_all.py [--quick]   # --quick: smaller runs (minutes, not an hour)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(*args: str) -> None:
    print(f"\n=== {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, *args], check=True, cwd=HERE.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    run(str(HERE / "bench_pricing.py"), "--write")
    run(str(HERE / "bench_stats.py"), "--write", "--label", "make bench")
    run(str(HERE / "bench_worker_stages.py"), "--write", "--label", "make bench")
    if shutil.which("valgrind"):  # instructions per event: the same on a busy or a quiet machine
        run(str(HERE / "bench_instructions.py"), "--write", "--label", "make bench")
    else:
        print("valgrind not installed: bench_instructions.py skipped", flush=True)
    run(str(HERE / "bench_insert_size.py"), "--events", "20000" if quick else "40000")
    run(str(HERE / "bench_sink.py"), "--events", "40000" if quick else "80000", "--label", "make bench")
    run(str(HERE / "bench_version_lookup.py"), "--write", "--stored", "3000000" if quick else "10000000")
    run(str(HERE / "bench_fetch_pacing.py"), "--seconds", "5" if quick else "10")
    run(str(HERE / "bench_fetch_wait.py"))
    run(str(HERE / "bench_worker.py"), "--events", "30000" if quick else "60000")
    for broker in ("noida", "tansu"):  # the fixed parts' CPU per event, no ailedger logic
        run(str(HERE / "bench_floor.py"), "--broker", broker, "--events", "50000" if quick else "100000")
    run(str(HERE / "bench_broker_tax.py"), "--write", "--sizes", "25000,50000" if quick else "25000,50000,100000,200000")
    for broker in ("noida", "tansu"):  # noida-db slows down past ~100 MB of log (one JSON file)
        run(str(HERE / "bench_pipeline.py"), "--broker", broker, "--events", "50000" if quick else "100000",
            "--seconds", "10" if quick else "30", "--rate", "2000")
    run(str(HERE / "bench_sdk.py"), "--events", "50000" if quick else "200000")
    run(str(HERE / "bench_reports.py"), "--rows", "1000000" if quick else "10000000",
        "--out", str(HERE / "results" / "reports.md"))


if __name__ == "__main__":
    main()
