"""``ailedger worker``: run the Faust stream-processing worker in the foreground."""

from __future__ import annotations

import os
import sys


def register(sub) -> None:
    p = sub.add_parser("worker", help="run the Faust worker (pricing, statistics, alerts)")
    p.add_argument("--log-level", default="info", choices=["crit", "error", "warn", "info", "debug"])
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger.processes import worker_command

    cmd = worker_command(args.log_level)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return
