"""Benchmark: CPU per call of the stats stage (reading costed messages and ``step.plan``), offline.

Run: ``python benchmarks/bench_stats.py [--events N] [--rounds R] [--label L] [--write] [--digest]``.

The events come from ``ailedger.demo_traffic`` (seed 3, all near "now", as live traffic is),
priced by ``cost_batch`` and written as the pricing stage writes them (columns messages of 200
calls), so each message is exactly what the agent reads. Per prompt type, the calls are folded in messages of 200 (the pricing stage's
batches), one message per ``plan`` run, the previous state and daily rows carried over as the
agent's tables would. Timed separately, per call and in CPU time of this process (less disturbed
than wall time by other processes on the shared machine): reading every message as the agent
does (``batch_from_columns``; ``parse_costed`` call by call before the columns form), and
``plan`` (with the ``daily.day_key`` pass the agent makes to find the rows to read). The median of the
rounds is reported, and the best round (least disturbed by other processes). No table I/O, encoding or Kafka: that is the agent's, measured end to end by
``bench_pipeline.py``.

``--write`` appends a run (label, date, machine, figures) to ``benchmarks/results/stats.json``.
``--digest`` prints a SHA-256 of every output of ``plan`` (states as stored, daily rows, snapshots,
alerts, spend entries, decisions) over a fixed event set, several rule sets, a budget, small and
large messages, replays and 2 days of event times, so that two versions of the code can be shown
to decide exactly the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from ailedger.demo_traffic import generate  # noqa: E402
from schemas.codec import encode_batch, event_to_dict, unpack  # noqa: E402
from schemas.costed_columns import decode_costed, encode_costed  # noqa: E402
from schemas.prompt_config import Budget  # noqa: E402
from stream_processors.alerts.rules import AlertRules  # noqa: E402
from stream_processors.costing import cost_batch  # noqa: E402
from stream_processors.pricing import load_catalog  # noqa: E402
from stream_processors.stats import daily  # noqa: E402
from stream_processors.stats.batch import CallBatch  # noqa: E402
from stream_processors.stats.calls import parse_costed  # noqa: E402
from stream_processors.stats.columns import batch_from_columns  # noqa: E402
from stream_processors.stats.guard import Position  # noqa: E402
from stream_processors.stats.step import plan  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "stats.json"
MESSAGE_CALLS = 200


def costed_messages(n: int, seed: int = 3, days: int = 0, now: datetime | None = None,
                    size: int = MESSAGE_CALLS) -> dict[str, list[bytes]]:
    """Costed messages of ``n`` demo events (``size`` calls each), by prompt type, as the pricing
    stage sends them."""
    events = list(generate(n, seed=seed, days=days, now=now))
    batch = cost_batch(unpack(encode_batch([event_to_dict(e) for e in events])), load_catalog(None))
    return {pt: [encode_costed(calls[i:i + size]) for i in range(0, len(calls), size)]
            for pt, calls in batch.by_prompt_type.items()}


def read_calls(messages: list[bytes]) -> CallBatch:
    """The calls of costed messages, read as the agent reads them (in bulk, else one by one)."""
    out: list[CallBatch] = []
    for message in messages:
        columns = decode_costed(message)
        batch = batch_from_columns(columns)
        out.append(batch if batch is not None else CallBatch.from_calls(map(parse_costed, columns.items())))
    return CallBatch.concat(out)


def fold(calls_by_type: dict[str, list], now: datetime, rules: AlertRules, size: int = MESSAGE_CALLS,
         budget: Budget | None = None, replay_every: int = 0, on_plan=None) -> int:
    """``plan`` every prompt type's calls in messages of ``size``; returns the calls planned."""
    n = 0
    for pt, calls in calls_by_type.items():
        state, rows, offset = None, {}, 0
        for start in range(0, len(calls), size):
            chunk = calls.slice(start, start + size)
            messages = [(Position(0, offset, None), chunk)]
            if replay_every and offset % replay_every == replay_every - 1:  # the previous message again
                messages.insert(0, (Position(0, offset - 1, None), calls.slice(start - size, start)))
            offset += 1
            keys = {key for _, c in messages for key in c.day_keys()}  # as the agent finds its rows
            result = plan(state, {k: rows.get(k) for k in keys}, messages, now, rules, budget)
            if result.state is not None:
                state = result.state
            rows.update(result.daily)
            n += len(chunk)
            if on_plan is not None:
                on_plan(result)
    return n


def cpu_time(fn) -> tuple[float, object]:
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def bench(events: int, rounds: int, size: int = MESSAGE_CALLS) -> dict:
    now = datetime.now(timezone.utc)
    costed = costed_messages(events, now=now)
    rules = AlertRules()
    parse_us, plan_us = [], []
    for _ in range(rounds):
        seconds, parsed = cpu_time(lambda: {pt: read_calls(messages) for pt, messages in costed.items()})
        n = sum(len(v) for v in parsed.values())  # type: ignore[union-attr]
        parse_us.append(seconds / n * 1e6)
        seconds, planned = cpu_time(lambda: fold(parsed, now, rules, size))  # type: ignore[arg-type]
        plan_us.append(seconds / planned * 1e6)  # type: ignore[operator]
    parse, planned = statistics.median(parse_us), statistics.median(plan_us)
    return {"events": events, "prompt_types": len(costed), "message_calls": size, "rounds": rounds,
            "parse_us_per_call": round(parse, 2), "plan_us_per_call": round(planned, 2),
            "total_us_per_call": round(parse + planned, 2),
            "best_parse_us": round(min(parse_us), 2), "best_plan_us": round(min(plan_us), 2),
            "parse_us_rounds": [round(x, 2) for x in parse_us], "plan_us_rounds": [round(x, 2) for x in plan_us]}


def digest() -> str:
    """SHA-256 of every output of ``plan`` over fixed inputs (see the module docstring)."""
    now = datetime(2026, 11, 1, 1, 0, 0, tzinfo=timezone.utc)  # the traffic spans two months
    h = hashlib.sha256()
    kinds: Counter = Counter()

    def record(result) -> None:
        h.update(orjson.dumps([
            result.decision, result.new_prompt_type, sorted(result.decisions.items()),
            result.state.to_wire() if result.state is not None else None,
            sorted([daily.encode_key(k).decode(), row.model_dump_json()] for k, row in result.daily.items()),
            result.snapshot.model_dump_json() if result.snapshot is not None else None,
            [a.model_dump_json() for a in result.alerts], result.spend]))
        kinds.update(a.kind.value for a in result.alerts)

    tight = AlertRules(min_history=3, cost_factor=1.5, latency_factor=1.5, latency_min_excess_ms=0,
                       ewma_alpha=0.2, error_rate=0.02, error_min_calls=5, error_window_seconds=3600,
                       cooldown_seconds=60)
    for days in (0, 2):
        parsed = {pt: read_calls(messages)
                  for pt, messages in costed_messages(6_000, seed=11, days=days, now=now).items()}
        budget = Budget(scope="prompt_type", prompt_type=next(iter(parsed)), monthly_usd=Decimal("0.5"))
        for rules in (AlertRules(), tight):
            for size in (200, 7):
                fold(parsed, now, rules, size=size, budget=budget, replay_every=5, on_plan=record)
    return f"{h.hexdigest()} (alerts: {dict(sorted(kinds.items()))})"


def machine() -> str:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--message-calls", type=int, default=MESSAGE_CALLS, help="calls per message (and run)")
    parser.add_argument("--label", default="run")
    parser.add_argument("--write", action="store_true", help="append the run to benchmarks/results/stats.json")
    parser.add_argument("--digest", action="store_true", help="print a digest of every output of plan")
    args = parser.parse_args()
    result = bench(args.events, args.rounds, args.message_calls)
    print(f"parse_costed {result['parse_us_per_call']:.1f} us/call, plan {result['plan_us_per_call']:.1f} us/call, "
          f"total {result['total_us_per_call']:.1f} us/call (median of {args.rounds} rounds, CPU time; best round: "
          f"{min(result['parse_us_rounds']):.1f} + {min(result['plan_us_rounds']):.1f}; "
          f"{result['events']:,} events, {result['prompt_types']} prompt types, {args.message_calls} calls per run)")
    checked = digest() if args.digest else None  # after the timing: its garbage would weigh on it
    if checked:
        print(f"digest {checked}")
    if args.write:
        run = {"label": args.label, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "load_average_1m": round(os.getloadavg()[0], 2), **result}
        if checked:
            run["digest"] = checked
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"benchmark": "benchmarks/bench_stats.py",
                                                                          "runs": []}
        data["runs"].append(run)
        RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
