"""``ailedger import FILE``: backfill historic logs (JSONL or CSV) through the live path."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("import", help="backfill historic calls from a JSONL or CSV file (idempotent)")
    p.add_argument("file", type=Path)
    p.set_defaults(handler=run)


def run(args) -> int:
    from rich.progress import Progress

    from ailedger.importing import parse_file
    from ailedger.publishing import BatchPublisher
    from ailedger.settings import CommonSettings

    report = parse_file(args.file)
    for number, reason in report.rejected:
        print(f"{args.file}:{number}: rejected: {reason}", file=sys.stderr)
    publisher = BatchPublisher(CommonSettings())
    try:
        with Progress() as progress:
            task = progress.add_task("importing", total=len(report.accepted))
            for i, event in enumerate(report.accepted, 1):
                publisher.add(event)
                if i % 1000 == 0:
                    progress.update(task, completed=i)
            publisher.flush()
            progress.update(task, completed=len(report.accepted))
    finally:
        publisher.close()
    print(f"imported {len(report.accepted)} calls, rejected {len(report.rejected)}")
    return 0 if report.accepted or not report.rejected else 1
