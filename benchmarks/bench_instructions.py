"""The worker's pure path in instructions per event, counted by valgrind: a figure the machine's
speed does not move.

    python benchmarks/bench_instructions.py [--events 2000] [--write] [--label NAME]

CPU time on this machine varies by up to 1.5x within the hour (BENCHMARKS.md), so a change of a
few percent in ``bench_worker_stages.py`` is lost in the noise. ``valgrind --tool=callgrind``
counts the instructions the process executes instead, whatever else the machine is doing: two
runs of the same code differ by up to ~2 % per stage (the events are live, stamped when they are
generated), where CPU time differs by 10-50 %. Each stage of :mod:`benchmarks.bench_worker_stages` runs once
in a process of its own under callgrind, on inputs every process prepares the same way (demo
traffic in raw messages of 200, priced, encoded and read), and a process that prepares them and
runs no stage is the baseline: a stage's figure is its process's count less the baseline's,
per event. Each stage frees what it made, as the worker does. String hashing is seeded the same
in every process (``PYTHONHASHSEED=0``): with random seeds the baseline moves by a few
hundred instructions per event.

An instruction is not a nanosecond (a cache miss costs hundreds of cycles, a divide tens), so
these figures rank changes on the same path; CPU time stays in ``bench_worker_stages.py``.
``--write`` stores the run in ``benchmarks/results/instructions.json`` (replacing one with the
same ``--label``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "instructions.json"
STAGES = ("validate", "price", "encode", "read", "plan")
_COLLECTED = re.compile(rb"Collected : (\d+)")


def prepare(events: int, days: float = 0.01) -> dict:
    """Every stage's input, made the same way in every process."""
    from ailedger import gc_tuning
    from benchmarks.bench_stats import read_calls
    from benchmarks.bench_worker_stages import COSTED_BYTES, COSTED_CALLS, raw_messages
    from schemas.costed_columns import encode_costed_messages
    from stream_processors.alerts.rules import AlertRules
    from stream_processors.costing import cost_message, read_batch
    from stream_processors.pricing import load_catalog

    gc_tuning.tune()
    raws = raw_messages(events, days)
    catalog = load_catalog(None)
    validated = [read_batch(raw) for raw in raws]
    priced: dict[str, list] = {}
    for raw in raws:
        for prompt_type, calls in cost_message(raw, catalog).by_prompt_type.items():
            priced.setdefault(prompt_type, []).extend(calls)
    costed = {pt: [value for _, value in encode_costed_messages(calls, COSTED_CALLS, COSTED_BYTES)]
              for pt, calls in priced.items()}
    calls = {pt: read_calls(messages) for pt, messages in costed.items()}
    return {"raws": raws, "catalog": catalog, "validated": validated, "priced": priced, "costed": costed,
            "calls": calls, "rules": AlertRules(), "now": datetime.now(timezone.utc)}


def run_stage(stage: str, inputs: dict) -> None:
    """One stage over all of ``inputs``; its output is dropped (freed) before it returns."""
    from benchmarks.bench_stats import fold, read_calls
    from benchmarks.bench_worker_stages import COSTED_BYTES, COSTED_CALLS
    from schemas.costed_columns import encode_costed_messages
    from stream_processors.costing import CostedBatch, _Pricer, read_batch

    if stage == "validate":
        for raw in inputs["raws"]:
            read_batch(raw)
    elif stage == "price":
        for events in inputs["validated"]:
            pricer = _Pricer(CostedBatch(), inputs["catalog"], None, None)
            for event in events:
                pricer.add(event, event)
    elif stage == "encode":
        for calls in inputs["priced"].values():
            encode_costed_messages(calls, COSTED_CALLS, COSTED_BYTES)
    elif stage == "read":
        for messages in inputs["costed"].values():
            read_calls(messages)
    elif stage == "plan":
        fold(inputs["calls"], inputs["now"], inputs["rules"], size=COSTED_CALLS)
    else:
        raise SystemExit(f"unknown stage {stage!r}")


def count(stage: str, events: int, valgrind: str) -> int:
    """Instructions of a child process that prepares the inputs and runs ``stage`` (or none)."""
    with tempfile.TemporaryDirectory(prefix="ailedger-callgrind-") as tmp:
        done = subprocess.run(
            [valgrind, "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable, __file__,
             "--child", stage, "--events", str(events)],
            capture_output=True, check=False, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run of {stage!r} failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return int(found.group(1))


def bench(events: int, valgrind: str, jobs: int = 2) -> dict:
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # the counts do not depend on the load
        counts = dict(zip(("none", *STAGES), pool.map(lambda s: count(s, events, valgrind), ("none", *STAGES))))
    per_event = {stage: round((counts[stage] - counts["none"]) / events) for stage in STAGES}
    return {"events": events, "instructions_per_event": per_event,
            "pricing_stage": sum(per_event[s] for s in ("validate", "price", "encode")),
            "statistics_stage": per_event["read"] + per_event["plan"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--label", default="run")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        inputs = prepare(args.events)
        if args.child != "none":
            run_stage(args.child, inputs)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    result = bench(args.events, valgrind)
    stages = ", ".join(f"{s} {n:,}" for s, n in result["instructions_per_event"].items())
    print(f"instructions per event: {stages}; pricing stage {result['pricing_stage']:,}, "
          f"statistics stage {result['statistics_stage']:,}")
    if args.write:
        from benchmarks.bench_pipeline import package_versions
        from benchmarks.results_file import store_run
        run = {"label": args.label, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **result,
               "python": sys.version.split()[0], "packages": package_versions()}
        store_run(RESULTS, "benchmarks/bench_instructions.py", run)


if __name__ == "__main__":
    main()
