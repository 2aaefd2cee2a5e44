"""``ailedger report NAME``: run a named report and print it as a table, JSON or CSV.

Opens the store directly; when another process owns the embedded store, asks that process's
API instead (``AILEDGER_API_KEY`` is sent if set).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("report", help="run a named report (cost, token_usage, cost_analysis, metrics, ...)")
    p.add_argument("name", nargs="?", help="report name; omit to list the reports")
    p.add_argument("--from", dest="start", type=parse_time, help="start (inclusive), e.g. 2026-01-01 or ISO time")
    p.add_argument("--to", dest="end", type=parse_time, help="end (exclusive)")
    p.add_argument("--account", dest="account_id")
    p.add_argument("--granularity", default="day", choices=["hour", "day", "week", "month", "quarter", "year"])
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    for name in ("user", "prompt-type", "operation", "provider", "model", "search", "event-id", "task-id"):
        p.add_argument(f"--{name}", dest=name.replace("-", "_") + ("_id" if name == "user" else ""))
    p.add_argument("--success", choices=["true", "false"])
    p.add_argument("--section", help="with --format csv: which section of the report")
    p.add_argument("--format", default="table", choices=["table", "json", "csv"])
    p.set_defaults(handler=run)


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def open_local_store():
    """The store, migrated; ``None`` when another process owns the embedded store."""
    from ailedger.settings import SinkSettings
    from consumers.clickhouse.migrations import migrate
    from consumers.clickhouse.store import Store, StoreLocked

    settings = SinkSettings()
    try:
        store = Store.from_settings(settings)
    except StoreLocked:
        return None
    migrate(store, settings.text_ttl_days)
    return store


def run(args) -> int:
    from ailedger.settings import CommonSettings
    from consumers.reports import REGISTRY, ReportParams, render_table, run_report
    from consumers.reports.remote import fetch_report

    if not args.name:
        for spec in sorted(REGISTRY.values(), key=lambda s: s.name):
            print(f"{spec.name:16} {spec.description}")
        return 0
    params = ReportParams(
        start=args.start, end=args.end, account_id=args.account_id, granularity=args.granularity,
        limit=args.limit, offset=args.offset, user_id=args.user_id, prompt_type=args.prompt_type,
        operation=args.operation, provider=args.provider, model=args.model, search=args.search,
        event_id=args.event_id, task_id=args.task_id,
        success=None if args.success is None else args.success == "true",
    )
    store = open_local_store()
    if store is None:
        result = fetch_report(CommonSettings(), args.name, params)
    else:
        try:
            result = run_report(store, args.name, params)
        finally:
            store.close()
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2))
    elif args.format == "csv":
        print(result.to_csv(args.section), end="")
    else:
        print(render_table(result), end="")
    return 0
