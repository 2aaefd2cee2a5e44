"""Benchmark: priced calls per second of ``price_call`` alone, vs raw ``genai_prices.calc_price``.

Run: ``python benchmarks/bench_pricing.py [--events N] [--rounds R] [--write]``. With
``--write`` the figures go to benchmarks/results/pricing.md with the machine and date.

The events are built beforehand (decoding is not pricing); the mix is a realistic one: mostly
small chat calls on a few popular models, some with cached prompts, some reasoning calls, a few
long-context Gemini calls, a self-hosted model priced by an override, an unknown model, over
30 days (so the per-day cache holds ~30 entries per model).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import genai_prices  # noqa: E402
from genai_prices import Usage  # noqa: E402

from schemas.events import AICallEvent  # noqa: E402
from schemas.pricing import PriceOverride  # noqa: E402
from stream_processors.pricing import CreditRules, PriceCatalog, price_call  # noqa: E402
from stream_processors.pricing.units import to_genai_usage  # noqa: E402

#: (weight, provider, model, shape)
MIX = [
    (30, "openai", "gpt-4o-mini", "chat"),
    (15, "openai", "gpt-4o", "cached"),
    (10, "openai", "o3-mini", "reasoning"),
    (15, "anthropic", "claude-sonnet-4-5", "cached"),
    (5, "anthropic", "claude-3-5-haiku-latest", "chat"),
    (10, "google", "gemini-2.5-flash", "chat"),
    (4, "google", "gemini-2.5-pro", "long"),
    (5, "deepseek", "deepseek-chat", "chat"),
    (5, "ollama", "llama3", "chat"),
    (1, "openai", "gpt-unknown", "chat"),
]
START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def make_events(n: int, seed: int = 7) -> list[AICallEvent]:
    """``n`` events of the mix, at random instants over 30 days."""
    rng = random.Random(seed)
    weights = [w for w, *_ in MIX]
    events = []
    for _ in range(n):
        _, provider, model, shape = rng.choices(MIX, weights)[0]
        usage = {"input_tokens": rng.randint(50, 4_000), "output_tokens": rng.randint(10, 1_500)}
        if shape == "cached":
            usage["cache_read_tokens"] = rng.choice([0, rng.randint(1_000, 20_000)])
            usage["cache_write_tokens"] = rng.choice([0, 0, rng.randint(500, 5_000)])
        elif shape == "reasoning":
            usage["reasoning_tokens"] = rng.randint(100, 10_000)
        elif shape == "long":
            usage["input_tokens"] = rng.randint(50_000, 400_000)
        when = START + timedelta(seconds=rng.randint(0, 30 * 86_400 - 1))
        events.append(
            AICallEvent(event_id=uuid.uuid4(), occurred_at=when, account_id="a", provider=provider, model=model, **usage)
        )
    return events


class Clock:
    """Wall and CPU time of a block: CPU time is what this process used, so it is less
    disturbed by other processes on a shared machine than wall time."""

    def __enter__(self) -> "Clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def bench_price_call(events: list[AICallEvent], rounds: int) -> dict:
    catalog = PriceCatalog([PriceOverride(provider="ollama", model="llama3*", effective_from="2026-01-01", input=0.05, output=0.1)])
    rules = CreditRules()
    with Clock() as cold:
        for event in events:  # first pass fills the per-day cache
            price_call(event, catalog, rules)
    cpu, wall = [], []
    for _ in range(rounds):
        with Clock() as clock:
            for event in events:
                price_call(event, catalog, rules)
        cpu.append(len(events) / clock.cpu)
        wall.append(len(events) / clock.wall)
    return {"cold_rate": len(events) / cold.cpu, "rates": cpu, "wall_rates": wall}


def bench_calc_price(events: list[AICallEvent], rounds: int) -> dict:
    """genai_prices.calc_price per event (Usage built per call, as a stream would have to)."""
    known = [e for e in events if e.provider != "ollama" and e.model != "gpt-unknown"]
    rates = []
    for _ in range(rounds):
        with Clock() as clock:
            for event in known:
                genai_prices.calc_price(
                    Usage(**to_genai_usage(event)),
                    model_ref=event.model,
                    provider_id=event.provider,
                    genai_request_timestamp=event.occurred_at,
                )
        rates.append(len(known) / clock.cpu)
    usages = [(Usage(input_tokens=e.input_tokens + e.cache_read_tokens + e.cache_write_tokens,
                     cache_read_tokens=e.cache_read_tokens, cache_write_tokens=e.cache_write_tokens,
                     output_tokens=e.output_tokens + e.reasoning_tokens,
                     output_reasoning_tokens=e.reasoning_tokens), e) for e in known]
    with Clock() as clock:
        for usage, event in usages:
            genai_prices.calc_price(usage, model_ref=event.model, provider_id=event.provider,
                                    genai_request_timestamp=event.occurred_at)
    prebuilt = len(usages) / clock.cpu
    return {"rates": rates, "prebuilt_usage_rate": prebuilt, "n": len(known)}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"cpu": cpu, "nproc": nproc, "load": load, "python": platform.python_version(), "genai_prices": genai_prices.__version__}


def report(n: int, ours: dict, theirs: dict, info: dict) -> str:
    best, median = max(ours["rates"]), statistics.median(ours["rates"])
    wall = statistics.median(ours["wall_rates"])
    g_best, g_median = max(theirs["rates"]), statistics.median(theirs["rates"])
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Pricing benchmark: `price_call` alone

Run `python benchmarks/bench_pricing.py --write` to reproduce. One process, one core, events built
beforehand; the mix is in the script (8 catalog models + an override-priced Ollama model + an
unknown model, 30 days of timestamps). Rates are per second of this process's CPU time (other
processes on the shared machine inflate wall time; the wall-clock median is given too).
Figures are one run each.

- Date: {now}
- Machine: `nproc` = {info['nproc']}, CPU: {info['cpu']}, load average at the end: {info['load']}
- Python {info['python']}, genai-prices {info['genai_prices']}

| what | calls per CPU-second (median of rounds) | best round | µs per call (median) |
|---|---|---|---|
| `price_call` (warm cache, with credits) | {median:,.0f} | {best:,.0f} | {1e6 / median:.2f} |
| `price_call`, first pass (fills the per-day cache) | {ours['cold_rate']:,.0f} | - | {1e6 / ours['cold_rate']:.2f} |
| `genai_prices.calc_price` (Usage of all ~50 unit keys built per call by `to_genai_usage`) | {g_median:,.0f} | {g_best:,.0f} | {1e6 / g_median:.2f} |
| `genai_prices.calc_price` (Usage of the 5 buckets, prebuilt: calc_price alone) | {theirs['prebuilt_usage_rate']:,.0f} | - | {1e6 / theirs['prebuilt_usage_rate']:.2f} |

`price_call` by the wall clock (median): {wall:,.0f} calls/s.

`price_call` (with credits) is {median / theirs['prebuilt_usage_rate']:.0f}x faster than `calc_price` alone and gives
the same Decimal amounts (tests/stream_processors/pricing/test_genai_parity.py). {n:,} events per
round for `price_call`; calc_price on the first {theirs['n']:,} catalog-priced events of the same mix.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/pricing.md")
    args = parser.parse_args()
    events = make_events(args.events)
    ours = bench_price_call(events, args.rounds)
    theirs = bench_calc_price(events[: max(2_000, args.events // 20)], max(1, args.rounds // 2))
    text = report(args.events, ours, theirs, machine())
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "results" / "pricing.md").write_text(text)


if __name__ == "__main__":
    main()
