"""Fixtures for the stream processors (the worker factory itself is in the root conftest)."""

from __future__ import annotations

import pytest

from ailedger.settings import WorkerSettings


@pytest.fixture
def worker_settings(settings) -> WorkerSettings:
    return WorkerSettings(**settings.model_dump())
