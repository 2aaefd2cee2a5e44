"""The worker's log setup: Faust's spinner must not turn the root logger to DEBUG."""

from __future__ import annotations

import logging

import faust

from stream_processors.app import Worker, app


def _root_level_after_setup(worker_class: type) -> int:
    worker = worker_class(app, loglevel="warn", quiet=True)
    logger = logging.getLogger(f"probe-{worker_class.__module__}")
    logger.addHandler(logging.NullHandler())
    logger.setLevel(logging.WARN)
    worker.on_setup_root_logger(logger, logging.WARN)
    return logger.level


def test_faust_worker_uses_the_quiet_worker_class():
    assert app.conf.Worker is Worker


def test_warn_level_keeps_debug_records_off():
    assert _root_level_after_setup(faust.Worker) == logging.DEBUG  # what Faust alone does
    assert _root_level_after_setup(Worker) == logging.WARN
