"""CPU clocks of the benchmarks (Linux ``/proc``): a process's, one thread's, the whole
machine's, and the serve process's split between its Python threads and the embedded engine."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds used so far by a process, or by one of its threads (Linux /proc)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def python_threads_seconds() -> dict[int, tuple[str, float]]:
    """``native id -> (name, CPU seconds so far)`` of this process's Python threads."""
    seconds = {}
    for thread in threading.enumerate():
        try:
            seconds[thread.native_id] = (thread.name, cpu_seconds(os.getpid(), thread.native_id))
        except (FileNotFoundError, TypeError):
            continue  # ended meanwhile
    return seconds


def threads_used(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds each Python thread used since ``before`` (a :func:`python_threads_seconds`)."""
    return by_name(before, python_threads_seconds())


def native_threads_seconds() -> dict[int, tuple[str, float]]:
    """``native id -> (name, CPU seconds so far)`` of this process's threads that are not Python
    threads (the embedded engine's pools, named by the engine: ``MergeMutate``, ``QueryPipelineEx`` ...)."""
    python = {thread.native_id for thread in threading.enumerate()}
    seconds = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        tid = int(task.name)
        if tid in python:
            continue
        try:
            seconds[tid] = ((task / "comm").read_text().strip(), cpu_seconds(os.getpid(), tid))
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return seconds


def by_name(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds used between two thread readings, summed by thread name."""
    out: dict[str, float] = {}
    for tid, (name, used) in after.items():
        out[name] = out.get(name, 0.0) + used - before.get(tid, (name, 0.0))[1]
    return out


class ServeProcessClock:
    """The serve process's (this process's) CPU in two: its Python threads (sinks, kafka-python,
    views) outside ClickHouse calls, and the embedded engine (chDB's own threads, plus the thread
    CPU inside the store's calls: chDB runs a query partly on the calling thread). A deployment
    runs the engine's part on the ClickHouse server."""

    def __init__(self, store):
        self.in_calls = 0.0
        self.by_call: dict[str, float] = {}
        for name in ("query", "raw_query", "raw_insert", "command", "insert"):
            setattr(store.client, name, self._timed(name, getattr(store.client, name)))

    def _timed(self, name: str, call):
        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                self.in_calls += spent
                self.by_call[name] = self.by_call.get(name, 0.0) + spent
        return timed

    def start(self) -> None:
        self._process, self._threads, self._calls = cpu_seconds(os.getpid()), python_threads_seconds(), self.in_calls
        self._native, self._by_call = native_threads_seconds(), dict(self.by_call)

    def per_event(self, events: int) -> dict:
        process = cpu_seconds(os.getpid()) - self._process
        threads = threads_used(self._threads)
        native = by_name(self._native, native_threads_seconds())
        calls = self.in_calls - self._calls
        by_call = {name: used - self._by_call.get(name, 0.0) for name, used in self.by_call.items()}
        python = sum(threads.values()) - calls
        per_event = lambda seconds: round(seconds * 1e6 / events, 1)  # noqa: E731
        return {"python": per_event(python), "clickhouse engine": per_event(process - python),
                "threads (engine calls included)": {name: per_event(used) for name, used in
                                                    sorted(threads.items(), key=lambda kv: -kv[1]) if used},
                # the calling threads' CPU inside each kind of store call (raw_insert: the sink's
                # inserts; raw_query: its version lookups and other reads)
                "in calls": {name: per_event(used) for name, used in
                             sorted(by_call.items(), key=lambda kv: -kv[1]) if per_event(used)},
                # the engine's own pools; the rest of its share ran on the Python threads that called it
                "engine threads": {name: per_event(used) for name, used in
                                   sorted(native.items(), key=lambda kv: -kv[1]) if per_event(used)}}


def machine_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, all cores (Linux /proc/stat).
    Stolen time is time the hypervisor gave another guest: on this VM the same flood ran at
    anywhere from 10,000 to 18,000 events/s, so each flood reports how much it lost."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK"), steal / os.sysconf("SC_CLK_TCK")
