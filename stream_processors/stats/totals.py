"""Mergeable totals of a set of calls (one time bucket, or all time) and their summary.

Every field adds up across buckets (counts, exact Decimal cost, token sums, the latency
DDSketch), so a rolling window is the merge of its buckets and nothing is ever recomputed from
samples. Frozen slotted dataclasses with an explicit compact wire form (see ``sketch``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from dataclasses import dataclass

from schemas.events import TOKEN_BUCKETS
from schemas.stats import LatencySummary, StatsSummary
from stream_processors.stats.batch import Calls, as_batch, picker
from stream_processors.stats.sketch import EMPTY, DDSketch

ZERO = Decimal(0)
NO_TOKENS = (0, 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Totals:
    start: int = 0  # epoch seconds of the bucket's start; 0 for all time
    calls: int = 0
    errors: int = 0
    cached_calls: int = 0
    priced_calls: int = 0
    unpriced_calls: int = 0
    tokens: tuple[int, int, int, int, int] = NO_TOKENS
    cost_usd: Decimal = ZERO
    latency: DDSketch = EMPTY
    gen_tokens: int = 0  # output + reasoning tokens of successful calls with a latency
    gen_ms: float = 0.0  # ... and their latency

    def merge(self, other: "Totals") -> "Totals":
        return Totals(
            start=self.start,
            calls=self.calls + other.calls,
            errors=self.errors + other.errors,
            cached_calls=self.cached_calls + other.cached_calls,
            priced_calls=self.priced_calls + other.priced_calls,
            unpriced_calls=self.unpriced_calls + other.unpriced_calls,
            tokens=tuple(a + b for a, b in zip(self.tokens, other.tokens)),
            cost_usd=self.cost_usd + other.cost_usd,
            latency=self.latency.merge(other.latency),
            gen_tokens=self.gen_tokens + other.gen_tokens,
            gen_ms=self.gen_ms + other.gen_ms,
        )

    def to_wire(self) -> list:
        """A compact JSON-ready list (the state is rewritten on every update)."""
        return [self.start, self.calls, self.errors, self.cached_calls, self.priced_calls, self.unpriced_calls,
                list(self.tokens), str(self.cost_usd), self.gen_tokens, self.gen_ms, self.latency.to_wire()]

    @classmethod
    def from_wire(cls, wire: list) -> "Totals":
        start, calls, errors, cached, priced, unpriced, tokens, cost, gen_tokens, gen_ms, latency = wire
        if len(tokens) != 5:
            raise ValueError("totals need five token buckets")
        return Totals(
            start=int(start), calls=int(calls), errors=int(errors), cached_calls=int(cached),
            priced_calls=int(priced), unpriced_calls=int(unpriced), tokens=tuple(int(t) for t in tokens),
            cost_usd=Decimal(cost), latency=DDSketch.from_wire(latency), gen_tokens=int(gen_tokens),
            gen_ms=float(gen_ms))


def totals_of(calls: Calls, start: int = 0, indices: Sequence[int] | None = None) -> Totals:
    """The totals of ``calls`` (of those at ``indices``, if given), a column at a time."""
    batch = as_batch(calls)
    pick = picker(indices)
    success, latencies, priced = pick(batch.success), pick(batch.latency_ms), pick(batch.priced)
    n = len(success)
    costs = pick(batch.cost_usd)
    priced_calls = priced.count(True)
    if priced_calls != n:
        costs = [c for c, p in zip(costs, priced) if p]
    cost = sum(costs, ZERO)  # in order from ZERO, as ever (the sum's exponent is the smallest one's)
    tokens = tuple(sum(pick(column)) for column in batch.tokens)
    gen_tokens = 0
    gen_ms = 0.0
    for ok, latency, output, reasoning in zip(success, latencies, pick(batch.tokens[3]), pick(batch.tokens[4])):
        if ok and latency > 0:
            gen_tokens += output + reasoning  # Call.generated_tokens
            gen_ms += latency
    return Totals(
        start=start,
        calls=n,
        errors=n - success.count(True),
        cached_calls=pick(batch.cached).count(True),
        priced_calls=priced_calls,
        unpriced_calls=n - priced_calls,
        tokens=tokens,  # type: ignore[arg-type]
        cost_usd=cost,
        latency=EMPTY.add(latencies),
        gen_tokens=gen_tokens,
        gen_ms=gen_ms,
    )


def merge_totals(parts: Iterable[Totals]) -> Totals:
    """The sum of ``parts``; the result keeps the first part's ``start``."""
    result: Totals | None = None
    for part in parts:
        result = part if result is None else result.merge(part)
    return result if result is not None else Totals()


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def summarize(totals: Totals, window_seconds: int | None = None) -> StatsSummary:
    """The figures users see, from mergeable totals."""
    sketch = totals.latency
    prompt_tokens = totals.tokens[0] + totals.tokens[1] + totals.tokens[2]
    return StatsSummary(
        window_seconds=window_seconds,
        calls=totals.calls,
        errors=totals.errors,
        error_rate=_ratio(totals.errors, totals.calls),
        tokens=dict(zip(TOKEN_BUCKETS, totals.tokens)),
        total_tokens=sum(totals.tokens),
        cost_usd=totals.cost_usd,
        priced_calls=totals.priced_calls,
        unpriced_calls=totals.unpriced_calls,
        avg_cost_per_call_usd=(totals.cost_usd / totals.priced_calls) if totals.priced_calls else None,
        latency_ms=LatencySummary(avg=sketch.mean, p50=sketch.quantile(0.5), p95=sketch.quantile(0.95),
                                  p99=sketch.quantile(0.99), max=sketch.max),
        tokens_per_second=_ratio(totals.gen_tokens * 1000.0, totals.gen_ms),
        cache_hit_rate=_ratio(totals.cached_calls, totals.calls),
        prompt_cache_read_ratio=_ratio(totals.tokens[1], prompt_tokens),
    )
