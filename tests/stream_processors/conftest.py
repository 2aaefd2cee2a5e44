"""Fixtures for the stream processors: a real Faust worker subprocess per test."""

from __future__ import annotations

import pytest

from ailedger.processes import settings_env, spawn, stop, wait_for_log, worker_command
from ailedger.settings import WorkerSettings


@pytest.fixture
def worker_factory(settings, tmp_path, unique_id):
    """Start Faust workers for this test's topics; all are stopped afterwards."""
    started = []

    def start(name: str = "w1", **env):
        log = tmp_path / f"worker-{name}.log"
        proc = spawn(worker_command("info"), settings_env(settings, AILEDGER_APP_ID=f"app{unique_id}",
                                                          AILEDGER_HOME=str(tmp_path / f"home-{name}"), **env), log)
        started.append(proc)
        wait_for_log(proc, log, "Ready", timeout=120)
        return proc, log

    yield start
    for proc in started:
        stop(proc, timeout=20)


@pytest.fixture
def worker_settings(settings) -> WorkerSettings:
    return WorkerSettings(**settings.model_dump())
