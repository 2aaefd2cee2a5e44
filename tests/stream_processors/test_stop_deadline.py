"""A worker that decided to stop ends within the deadline even if something in its stop hangs;
a process that is not a worker (a test, a tool) is never ended that way."""

from __future__ import annotations

import subprocess
import sys
import time

from stream_processors.delivery import EXIT_STOP_DEADLINE

DEADLINE = """
import logging, sys, time
logging.basicConfig()  # as a worker's log is set up
from stream_processors.delivery import exit_if_not_stopped
exit_if_not_stopped(float(sys.argv[1]))
time.sleep(float(sys.argv[2]))  # a stop that hangs (or one that ends in time)
print("ended by itself")
"""

REFUSED_SEND = """
import asyncio, logging, sys, types
logging.basicConfig()
from stream_processors import delivery

async def crash(exc):  # Faust's stop, hanging for as long as the argument says
    await asyncio.sleep(float(sys.argv[2]))

app = types.SimpleNamespace(conf=types.SimpleNamespace(stream_wait_empty=True), crash=crash)
if sys.argv[1] == "worker":
    delivery.arm_stop_deadline(0.5)

async def main():
    refused = asyncio.get_running_loop().create_future()
    refused.set_exception(RuntimeError("MessageSizeTooLargeError"))
    try:
        await delivery.wait_delivered([refused], app)
    except delivery.DeliveryFailed:
        print("raised DeliveryFailed")

asyncio.run(main())
"""


def run(program: str, *args: object) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", program, *map(str, args)], capture_output=True, text=True,
                          timeout=60)
    return done, time.monotonic() - started


def test_a_hanging_stop_is_ended_at_the_deadline_and_says_so():
    done, took = run(DEADLINE, 0.5, 30)
    assert done.returncode == EXIT_STOP_DEADLINE
    assert "did not stop within" in done.stderr
    assert "ended by itself" not in done.stdout
    assert took < 30


def test_a_stop_that_ends_in_time_keeps_its_own_exit():
    done, _ = run(DEADLINE, 30, 0.1)
    assert done.returncode == 0
    assert "ended by itself" in done.stdout
    assert "did not stop within" not in done.stderr


def test_a_worker_whose_stop_hangs_after_a_refused_send_exits_at_its_deadline():
    done, took = run(REFUSED_SEND, "worker", 30)
    assert done.returncode == EXIT_STOP_DEADLINE, done.stderr
    assert "were not delivered" in done.stderr and "did not stop within" in done.stderr
    assert took < 30


def test_a_refused_send_outside_a_worker_never_ends_the_process():
    done, _ = run(REFUSED_SEND, "not-a-worker", 1.0)  # longer than a worker's deadline here
    assert done.returncode == 0, done.stderr
    assert "raised DeliveryFailed" in done.stdout
    assert "did not stop within" not in done.stderr
