"""The local stack on 127.0.0.1: broker, Faust worker and (optionally) the serve process.

Used by ``ailedger up`` and ``ailedger demo``. A broker is started only when the configured
bootstrap is a loopback address with nothing listening; only processes started here are
stopped here.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ailedger.broker import Broker, port_open, start_broker
from ailedger.processes import settings_env, spawn, stop, wait_for_log, worker_command
from ailedger.settings import CommonSettings
from ailedger.topics import create_topics

WORKER_READY = "Ready"


@dataclass
class LocalStack:
    settings: CommonSettings
    serve: bool = True
    broker: Broker | None = None
    worker: subprocess.Popen | None = None
    server: subprocess.Popen | None = None
    log_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_dir = Path(self.settings.home) / "logs"

    def start(self, say=print) -> "LocalStack":
        try:
            self._start(say)
        except BaseException:
            self.stop(say=lambda *_: None)
            raise
        return self

    def _start(self, say) -> None:
        host, _, port = self.settings.bootstrap_servers[0].rpartition(":")
        if host in ("127.0.0.1", "localhost") and not port_open(host, int(port)):
            started = time.monotonic()
            self.broker = start_broker(Path(self.settings.home) / "broker", int(port), host="127.0.0.1")
            say(f"broker      kafka://{self.broker.bootstrap}  (noida-db, pid {self.broker.process.pid}, "
                f"{time.monotonic() - started:.1f}s)")
        else:
            say(f"broker      kafka://{self.settings.kafka_bootstrap}  (external)")
        created = create_topics(self.settings, extra=_extra_topic_specs(self.settings))
        if created:
            say(f"topics      created {len(created)}")
        env = settings_env(self.settings)
        env.setdefault("AILEDGER_INSTANCE_ID", "local-worker-1")  # static membership: restarts resume at once
        env.setdefault("AILEDGER_SINK_INSTANCE_ID", "local-sink-1")
        started = time.monotonic()
        worker_log = self.log_dir / "worker.log"
        self.worker = spawn(worker_command("info"), env, worker_log)
        wait_for_log(self.worker, worker_log, WORKER_READY, timeout=90)
        say(f"worker      faust (pid {self.worker.pid}, {time.monotonic() - started:.1f}s, log {worker_log})")
        if self.serve:
            import sys

            serve_log = self.log_dir / "serve.log"
            started = time.monotonic()
            self.server = spawn([sys.executable, "-m", "ailedger.cli", "serve"], env, serve_log)
            wait_for_log(self.server, serve_log, "ailedger serve:", timeout=90)
            say(f"api         {self.settings.api_url}  (sink + API, pid {self.server.pid}, "
                f"{time.monotonic() - started:.1f}s, log {serve_log})")

    def stop(self, say=print) -> None:
        """Stop in dependency order: the serve process flushes its sinks, then the worker, the broker."""
        if self.server is not None:
            stop(self.server, timeout=30)
            say("stopped     serve")
        if self.worker is not None:
            stop(self.worker, timeout=30)
            say("stopped     worker")
        if self.broker is not None:
            self.broker.stop()
            say("stopped     broker")


def _extra_topic_specs(settings: CommonSettings):
    """Topics declared by optional modules (statistics, budgets), when installed."""
    try:
        from stream_processors.stats.topics import extra_topic_specs
    except ImportError:
        return []
    return extra_topic_specs(settings)
