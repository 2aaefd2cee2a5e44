"""Costed calls by column: what the statistics stage works on.

A :class:`CallBatch` holds the calls of one costed message (or a run of them) as one list per
field, the form the pricing stage sends (:mod:`schemas.costed_columns`). The statistics, the
daily rows, the anomaly averages and the spend are sums and groups over these lists, so no
object is built per call: a :class:`~stream_processors.stats.calls.Call` is made only for the
few calls that need one (the latest call's snapshot, a call that raises an alert), with
:meth:`CallBatch.call`. :meth:`CallBatch.from_calls` gives the batch of calls read one by one
(a message not in the bulk form, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

from stream_processors.alerts.budgets import month_of
from stream_processors.stats.calls import Call

DayKey = tuple[date, str, str, str]  # day, account, user ("" if none), prompt type


@dataclass(slots=True, eq=False)
class CallBatch:
    """Calls as columns, each a list with one value per call, in call order (the fields of
    :class:`Call`; ``tokens`` is five columns, in ``TOKEN_BUCKETS`` order). Treat as immutable:
    the derived columns (:meth:`day_keys`, :meth:`timestamps`, :meth:`months`,
    :meth:`cost_floats`) are computed once, and kept by :meth:`take`, :meth:`slice` and :meth:`concat`."""

    event_id: list[str]
    occurred_at: list[datetime]
    account_id: list[str]
    user_id: list[str | None]
    prompt_type: list[str]
    model: list[str]
    provider: list[str]
    operation: list[str]
    tokens: tuple[list[int], list[int], list[int], list[int], list[int]]
    latency_ms: list[float]
    success: list[bool]
    cached: list[bool]
    priced: list[bool]
    cost_usd: list[Decimal | None]
    error_type: list[str | None]
    error_message: list[str | None]
    unpriced_reason: list[str | None]
    prompt: list[str | None]
    response: list[str | None]
    metadata: list[dict[str, Any] | None]
    _day_keys: list[DayKey] | None = field(default=None, repr=False)
    _timestamps: list[float] | None = field(default=None, repr=False)
    _months: list[str] | None = field(default=None, repr=False)
    _cost_floats: list[float | None] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.event_id)

    def call(self, i: int) -> Call:
        """The ``i``-th call as a :class:`Call`."""
        return Call(*(getattr(self, name)[i] for name in _CALL_FIELDS[:8]),
                    tuple(column[i] for column in self.tokens),  # type: ignore[arg-type]
                    *(getattr(self, name)[i] for name in _CALL_FIELDS[9:]))

    @classmethod
    def empty(cls) -> "CallBatch":
        return cls.from_calls(())

    def calls(self) -> list[Call]:
        return [self.call(i) for i in range(len(self))]

    @classmethod
    def from_calls(cls, calls: Iterable[Call]) -> "CallBatch":
        calls = list(calls)
        columns = {name: [getattr(c, name) for c in calls] for name in _CALL_FIELDS if name != "tokens"}
        tokens = tuple(map(list, zip(*(c.tokens for c in calls)))) if calls else ([], [], [], [], [])
        return cls(tokens=tokens, **columns)  # type: ignore[arg-type]

    def take(self, indices: Sequence[int]) -> "CallBatch":
        """The calls at ``indices``, in that order."""
        return self._mapped(_picker(indices))

    def slice(self, start: int, stop: int) -> "CallBatch":
        """The calls from ``start`` up to ``stop``, as ``list[start:stop]``."""
        return self._mapped(lambda column: column[start:stop])

    def _mapped(self, part: Callable[[list], list]) -> "CallBatch":
        """A batch of ``part`` of every column, derived ones included."""
        return CallBatch(*(part(getattr(self, name)) for name in _CALL_FIELDS[:8]),
                         tuple(part(column) for column in self.tokens),  # type: ignore[arg-type]
                         *(part(getattr(self, name)) for name in _CALL_FIELDS[9:]),
                         *(None if memo is None else part(memo) for memo in self._memos()))

    @classmethod
    def concat(cls, batches: Sequence["CallBatch"]) -> "CallBatch":
        """The calls of ``batches``, one after the other."""
        if len(batches) == 1:
            return batches[0]
        return cls(*(_joined(batches, name) for name in _CALL_FIELDS[:8]),
                   tuple(_extended([b.tokens[k] for b in batches]) for k in range(5)),  # type: ignore[arg-type]
                   *(_joined(batches, name) for name in _CALL_FIELDS[9:]),
                   *(_joined(batches, name) if all(getattr(b, name) is not None for b in batches) else None
                     for name in _MEMOS))

    def _memos(self) -> tuple[list | None, ...]:
        return self._day_keys, self._timestamps, self._months, self._cost_floats

    def by_prompt_type(self) -> Iterator[tuple[str, "CallBatch"]]:
        """``(prompt type, its calls)`` in order of first appearance (a columns message has one)."""
        types = self.prompt_type
        if not types:
            return
        if types.count(types[0]) == len(types):
            yield types[0], self
            return
        groups: dict[str, list[int]] = {}
        for i, prompt_type in enumerate(types):
            groups.setdefault(prompt_type, []).append(i)
        for prompt_type, indices in groups.items():
            yield prompt_type, self.take(indices)

    def day_keys(self) -> list[DayKey]:
        """Each call's daily-usage key: (UTC day, account, user or "", prompt type)."""
        if self._day_keys is None:
            self._day_keys = list(zip(map(datetime.date, self.occurred_at), self.account_id,
                                      [u or "" for u in self.user_id], self.prompt_type))
        return self._day_keys

    def timestamps(self) -> list[float]:
        """Each call's ``occurred_at`` in epoch seconds."""
        if self._timestamps is None:
            self._timestamps = list(map(datetime.timestamp, self.occurred_at))
        return self._timestamps

    def cost_floats(self) -> list[float | None]:
        """Each call's cost as a float (``None`` when unpriced), for the anomaly averages."""
        if self._cost_floats is None:
            self._cost_floats = [None if c is None else float(c) for c in self.cost_usd]
        return self._cost_floats

    def months(self) -> list[str]:
        """Each call's calendar month, ``"YYYY-MM"`` (formatted once per distinct day)."""
        if self._months is None:
            days = [key[0] for key in self.day_keys()]
            names = {day: month_of(day) for day in set(days)}
            self._months = list(map(names.__getitem__, days))
        return self._months


_CALL_FIELDS = tuple(f.name for f in fields(Call))
_MEMOS = ("_day_keys", "_timestamps", "_months", "_cost_floats")
if (*_CALL_FIELDS, *_MEMOS) != tuple(f.name for f in fields(CallBatch)) or _CALL_FIELDS[8] != "tokens":
    raise ImportError("CallBatch's columns must be Call's fields, in order")


def _joined(batches: Sequence[CallBatch], name: str) -> list[Any]:
    return _extended([getattr(batch, name) for batch in batches])


def _extended(columns: list[list[Any]]) -> list[Any]:
    """The columns one after the other (copied in C, not value by value)."""
    out = list(columns[0])
    for column in columns[1:]:
        out += column
    return out


def _picker(indices: Sequence[int]):
    """A function giving ``[column[i] for i in indices]`` (in C)."""
    if len(indices) <= 1:
        only = indices[:1]
        return lambda column: [column[i] for i in only]
    get = itemgetter(*indices)
    return lambda column: list(get(column))


def picker(indices: Sequence[int] | None):
    """:func:`_picker`, or the column itself for ``None`` (every call)."""
    return (lambda column: column) if indices is None else _picker(indices)


Calls = Union[CallBatch, Sequence[Call]]


def as_batch(calls: Calls) -> CallBatch:
    """``calls`` as a :class:`CallBatch` (a sequence of :class:`Call` is transposed)."""
    return calls if type(calls) is CallBatch else CallBatch.from_calls(calls)  # type: ignore[arg-type]
