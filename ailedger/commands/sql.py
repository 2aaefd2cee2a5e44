"""``ailedger sql "SELECT ..."``: read-only SQL (ClickHouse ``readonly = 1``) against the store."""

from __future__ import annotations

import csv
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("sql", help="run one read-only SQL statement against the ClickHouse store")
    p.add_argument("query", help="a single SELECT/WITH/SHOW/DESCRIBE/EXISTS statement")
    p.add_argument("--max-rows", type=int, default=1000)
    p.add_argument("--format", default="table", choices=["table", "json", "csv"])
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger.commands.report import open_local_store
    from ailedger.settings import CommonSettings
    from consumers.reports.base import ReportResult, jsonable
    from consumers.reports.readonly_sql import run_read_only
    from consumers.reports.remote import remote_sql
    from consumers.reports.render import render_table

    store = open_local_store()
    if store is None:
        result = remote_sql(CommonSettings(), args.query, args.max_rows)
    else:
        try:
            result = run_read_only(store, args.query, args.max_rows)
        finally:
            store.close()
    if args.format == "json":
        print(json.dumps({"columns": result.columns, "rows": jsonable(result.rows), "truncated": result.truncated}))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else jsonable(v) for v in row] for row in result.rows)
    else:
        print(render_table(ReportResult("sql", result.columns, result.rows)), end="")
    if result.truncated:
        print(f"(showing the first {args.max_rows} rows)", file=sys.stderr)
    return 0
