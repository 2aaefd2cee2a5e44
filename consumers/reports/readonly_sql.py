"""Read-only SQL for analysts: one reading statement, run with ClickHouse ``readonly = 1``.

ClickHouse's readonly mode is the enforcement. Two checks come first because of the embedded
engine: a non-SELECT statement carrying ``SETTINGS readonly = 1`` leaves the *shared* session
read-only for good (the sink could no longer write), several statements separated by ``;``
would each run, and ``INTO OUTFILE`` writes files even in readonly mode. So the text must be a
single SELECT/WITH/SHOW/DESCRIBE/EXISTS statement without ``INTO OUTFILE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from consumers.clickhouse.store import Store, StoreError

READ_KEYWORDS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS")
DEFAULT_MAX_ROWS = 10_000
MAX_EXECUTION_SECONDS = 30


class NotReadOnly(ValueError):
    """The SQL is not a single reading statement."""


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool


_TOKEN = re.compile(
    r"""--[^\n]*|\#[^\n]*|/\*.*?\*/        # comments
    |'(?:[^'\\]|\\.|'')*'                   # string literals
    |"(?:[^"\\]|\\.|"")*"|`(?:[^`\\]|\\.|``)*`  # quoted identifiers
    """,
    re.VERBOSE | re.DOTALL,
)


def code_only(sql: str) -> str:
    """The SQL with comments, literals and quoted identifiers blanked out."""
    stripped = _TOKEN.sub(lambda m: " " if m.group(0)[0] in "-#/" else "''", sql)
    if any(q in stripped.replace("''", "") for q in "'\"`") or "/*" in stripped:
        raise NotReadOnly("unterminated string, identifier or comment")
    return stripped


def check_read_only(sql: str) -> str:
    """Return the statement without a trailing ``;``; raise :class:`NotReadOnly` otherwise."""
    code = code_only(sql).strip()
    while code.endswith(";"):
        code = code[:-1].rstrip()
    if not code:
        raise NotReadOnly("empty statement")
    if ";" in code:
        raise NotReadOnly("only one statement is allowed")
    first = re.match(r"[(\s]*([A-Za-z]+)", code)
    if not first or first.group(1).upper() not in READ_KEYWORDS:
        raise NotReadOnly(f"only {', '.join(READ_KEYWORDS)} statements are allowed")
    if re.search(r"\bINTO\s+OUTFILE\b", code, re.IGNORECASE):
        raise NotReadOnly("INTO OUTFILE is not allowed")
    if re.search(r"\bFORMAT\s+\w+\s*$", code, re.IGNORECASE):
        raise NotReadOnly("drop the FORMAT clause: choose the output format with --format / format=")
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def run_read_only(store: Store, sql: str, max_rows: int = DEFAULT_MAX_ROWS) -> SqlResult:
    """Run one reading statement with ``readonly = 1``, returning at most ``max_rows`` rows."""
    statement = check_read_only(sql)
    settings = {
        "readonly": 1,
        "max_result_rows": max_rows + 1,
        "result_overflow_mode": "break",
        "max_execution_time": MAX_EXECUTION_SECONDS,
    }
    try:
        columns, rows = store.rows(statement, settings=settings)
    finally:
        _, mode = store.rows("SELECT getSetting('readonly')")
        if mode and int(mode[0][0]) != 0:  # pragma: no cover - guarded by check_read_only
            raise StoreError("the shared ClickHouse session was left read-only; restart the process")
    truncated = len(rows) > max_rows
    return SqlResult(list(columns), [list(r) for r in rows[:max_rows]], truncated)
