"""Child processes of the local stack: the Faust worker and the serve process (sink + API).

Each child gets its own process group, so stopping it stops everything it started, and only
what we started is ever signalled (by PID).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ailedger.settings import CommonSettings


def settings_env(settings: CommonSettings, **extra: str) -> dict[str, str]:
    """Environment that makes a child see the same settings as this process."""
    env = dict(os.environ)
    env.update({
        "AILEDGER_HOME": str(Path(settings.home).resolve()),
        "AILEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "AILEDGER_TOPIC_PREFIX": settings.topic_prefix,
        "AILEDGER_PARTITIONS": str(settings.partitions),
        "AILEDGER_CLICKHOUSE_DSN": settings.resolved_clickhouse_dsn,
        "AILEDGER_CLICKHOUSE_DATABASE": settings.clickhouse_database,
        "AILEDGER_API_HOST": settings.api_host,
        "AILEDGER_API_PORT": str(settings.api_port),
    })
    env.update(extra)
    return env


def worker_command(log_level: str = "info") -> list[str]:
    return [sys.executable, "-m", "faust", "-A", "stream_processors.app", "worker", "--without-web",
            "-l", log_level]


def spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a child appending to ``log_path``; ``process.log_start`` is where its output begins."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    start = log.tell()
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    process.log_start = start
    return process


def wait_for_log(process: subprocess.Popen, log_path: Path, marker: str, timeout: float) -> None:
    """Wait until ``marker`` appears in this run's part of the child's log (or fail if it exits
    or times out)."""
    deadline = time.monotonic() + timeout
    start = getattr(process, "log_start", 0)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{log_path.stem} exited with code {process.returncode}; see {log_path}")
        if log_path.exists():
            with open(log_path, "rb") as log:
                log.seek(start)
                if marker.encode() in log.read():
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{log_path.stem} not ready after {timeout:.0f}s; see {log_path}")


def stop(process: subprocess.Popen, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
    """Signal the child's process group (ours), wait, and kill it if it does not exit in time."""
    if process.poll() is not None:
        return process.returncode
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return process.poll()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout)


def kill(process: subprocess.Popen) -> None:
    """kill -9 the child's process group (fault tests)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)
