"""``ailedger publish --file events.jsonl``: publish one JSON event per line.

Each rejected line is reported with its line number and reason; valid lines are published
(waiting for the broker's acknowledgement) whatever the bad ones are.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("publish", help="publish events from a JSONL file (one event per line)")
    p.add_argument("--file", "-f", required=True, type=Path, help="JSONL file, '-' for stdin")
    p.add_argument("--batch-size", type=int, default=200)
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger.publishing import BatchPublisher
    from ailedger.settings import CommonSettings
    from schemas.codec import loads, parse_event

    stream = sys.stdin.buffer if str(args.file) == "-" else open(args.file, "rb")
    publisher = BatchPublisher(CommonSettings(), batch_size=args.batch_size)
    rejected = 0
    try:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                publisher.add(parse_event(loads(line)))
            except ValueError as exc:
                rejected += 1
                print(f"line {number}: rejected: {exc}", file=sys.stderr)
        published = publisher.flush()
    finally:
        publisher.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    print(f"published {published} events, rejected {rejected}")
    return 1 if rejected and not published else 0
