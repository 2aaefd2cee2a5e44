"""A worker that decided to stop ends within the deadline even if something in its stop hangs."""

from __future__ import annotations

import subprocess
import sys
import time

from stream_processors.delivery import EXIT_STOP_DEADLINE

PROGRAM = """
import logging, sys, time
logging.basicConfig()  # as a worker's log is set up
from stream_processors.delivery import exit_if_not_stopped
exit_if_not_stopped(float(sys.argv[1]))
time.sleep(float(sys.argv[2]))  # a stop that hangs (or one that ends in time)
print("ended by itself")
"""


def run(deadline: float, hang: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(deadline), str(hang)], capture_output=True,
                          text=True, timeout=60)
    return done, time.monotonic() - started


def test_a_hanging_stop_is_ended_at_the_deadline_and_says_so():
    done, took = run(deadline=0.5, hang=30)
    assert done.returncode == EXIT_STOP_DEADLINE
    assert "did not stop within" in done.stderr
    assert "ended by itself" not in done.stdout
    assert took < 30


def test_a_stop_that_ends_in_time_keeps_its_own_exit():
    done, _ = run(deadline=30, hang=0.1)
    assert done.returncode == 0
    assert "ended by itself" in done.stdout
    assert "did not stop within" not in done.stderr
