"""``ailedger replay --from T1 --to T2 [--reprice]``: re-price a time range from the raw topic."""

from __future__ import annotations

from datetime import datetime, timezone


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def register(sub) -> None:
    p = sub.add_parser("replay", help="re-read the raw topic for an event-time range and re-emit costed calls")
    p.add_argument("--from", dest="start", required=True, type=_when, help="event time, ISO 8601 (UTC if no zone)")
    p.add_argument("--to", dest="end", required=True, type=_when, help="event time, exclusive")
    p.add_argument("--reprice", action="store_true",
                   help="re-rate every call under the current prices (default: only fill gaps - missing "
                        "calls and calls stored unpriced that now have a price)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from rich.progress import Progress

    from ailedger.settings import WorkerSettings
    from stream_processors.replay import replay

    mode = "reprice" if args.reprice else "repair"
    with Progress() as progress:
        task = progress.add_task(f"replay ({mode})", total=None)
        result = replay(WorkerSettings(), args.start, args.end, mode,
                        progress=lambda done, total: progress.update(task, completed=done, total=total))
    print(f"scanned {result.scanned} messages, {result.in_range} calls in range, re-emitted {result.emitted} "
          f"({result.unpriced} still unpriced, {result.rejected} invalid)")
    return 0
