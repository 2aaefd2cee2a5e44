"""The worker's own Python work per event, stage by stage, offline (no Faust, no Kafka, no tables).

    python benchmarks/bench_worker_stages.py [--events 20000] [--rounds 7] [--days 0.01] [--write]

The same events the worker would get (demo traffic, live by default: all within minutes), in
raw messages of 200 as the SDK sends them, go through the worker's pure functions in order:

* ``validate``: :func:`stream_processors.costing.read_batch` (msgspec, else pydantic; one pass per raw message);
* ``price``: the rest of :func:`stream_processors.costing.cost_message` (``price_call``, credits);
* ``encode``: the costed messages of a run (``encode_costed_messages``, up to 500 calls per
  message per prompt type, as the pricing agent sends them);
* ``read``: the statistics stage decoding them (``decode_costed`` + ``batch_from_columns``);
* ``plan``: :func:`stream_processors.stats.step.plan` per prompt type, one run per message.

Each is CPU time of this process per event, the median (and best) of ``--rounds`` rounds, with
the garbage collector tuned as in the worker (:mod:`ailedger.gc_tuning`). Their
sum is a floor under the worker's CPU per event in ``bench_worker.py``/``bench_pipeline.py``,
which add Faust, aiokafka, RocksDB, changelogs and the live views. At 20,000 events/s a single
worker process (one Python thread does the work) has 50 µs per event on one core.

``--write`` stores the run in ``benchmarks/results/worker_stages.json`` (replacing one with the
same ``--label``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ailedger import gc_tuning  # noqa: E402
from ailedger.demo_traffic import generate  # noqa: E402
from ailedger.settings import WorkerSettings  # noqa: E402
from benchmarks.bench_pipeline import machine, package_versions  # noqa: E402
from benchmarks.bench_stats import fold, read_calls  # noqa: E402
from benchmarks.results_file import store_run  # noqa: E402
from schemas.codec import encode_batch, event_to_dict  # noqa: E402
from schemas.costed_columns import encode_costed_messages  # noqa: E402
from stream_processors.alerts.rules import AlertRules  # noqa: E402
from stream_processors.costing import cost_message, read_batch  # noqa: E402
from stream_processors.pricing import load_catalog  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "worker_stages.json"
RAW_EVENTS = 200  # events per raw message (the SDK's batch)
_DEFAULTS = WorkerSettings.model_fields
RUN_MESSAGES = _DEFAULTS["take_messages"].default  # raw messages per pricing run
COSTED_CALLS = _DEFAULTS["max_costed_batch"].default  # calls per costed message
COSTED_BYTES = _DEFAULTS["max_costed_bytes"].default
STAGES = ("validate", "price", "encode", "read", "plan")


def raw_messages(events: int, days: float, seed: int = 5) -> list[bytes]:
    items = [event_to_dict(e) for e in generate(events, days=days, seed=seed)]
    return [encode_batch(items[i:i + RAW_EVENTS]) for i in range(0, len(items), RAW_EVENTS)]


def one_round(raws: list[bytes], catalog, rules: AlertRules, now: datetime) -> dict[str, float]:
    """CPU seconds of each stage over all ``raws``."""
    spent: dict[str, float] = {}
    clock = time.process_time
    start = clock()
    for raw in raws:
        if read_batch(raw) is None:
            raise SystemExit("a generated raw message did not validate")
    spent["validate"] = clock() - start
    start = clock()
    batches = [cost_message(raw, catalog) for raw in raws]  # validates again: subtracted below
    spent["price"] = clock() - start - spent["validate"]
    costed: dict[str, list[bytes]] = {}
    start = clock()
    for first in range(0, len(batches), RUN_MESSAGES):
        run: dict[str, list] = {}
        for batch in batches[first:first + RUN_MESSAGES]:
            for prompt_type, calls in batch.by_prompt_type.items():
                run.setdefault(prompt_type, []).extend(calls)
        for prompt_type, calls in run.items():
            costed.setdefault(prompt_type, []).extend(
                value for _, value in encode_costed_messages(calls, COSTED_CALLS, COSTED_BYTES))
    spent["encode"] = clock() - start
    start = clock()
    calls = {prompt_type: read_calls(messages) for prompt_type, messages in costed.items()}
    spent["read"] = clock() - start
    start = clock()
    fold(calls, now, rules, size=COSTED_CALLS)
    spent["plan"] = clock() - start
    return spent


def bench(events: int, rounds: int, days: float) -> dict:
    raws = raw_messages(events, days)
    catalog, rules, now = load_catalog(None), AlertRules(), datetime.now(timezone.utc)
    per_event: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(rounds):
        for stage, seconds in one_round(raws, catalog, rules, now).items():
            per_event[stage].append(seconds / events * 1e6)
    median = {stage: round(statistics.median(values), 2) for stage, values in per_event.items()}
    best = {stage: round(min(values), 2) for stage, values in per_event.items()}
    return {"events": events, "days": days, "rounds": rounds, "us_per_event": median,
            "total_us_per_event": round(sum(median.values()), 2), "best_us_per_event": best,
            "best_total_us_per_event": round(sum(best.values()), 2),
            "rounds_us_per_event": {stage: [round(v, 2) for v in values] for stage, values in per_event.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--days", type=float, default=0.01, help="the events' times spread over this many days")
    parser.add_argument("--label", default="run")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    gc_tuning.tune()  # the collector as the worker runs it (here, not in bench: tests import it)
    result = bench(args.events, args.rounds, args.days)
    stages = ", ".join(f"{stage} {us:.1f}" for stage, us in result["us_per_event"].items())
    print(f"worker's pure path: {result['total_us_per_event']:.1f} µs/event ({stages}; median of {args.rounds} "
          f"rounds; best rounds sum to {result['best_total_us_per_event']:.1f})")
    if args.write:
        run = {"label": args.label, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "load_average_1m": round(os.getloadavg()[0], 2), **result,
               "packages": package_versions()}
        store_run(RESULTS, "benchmarks/bench_worker_stages.py", run)


if __name__ == "__main__":
    main()
