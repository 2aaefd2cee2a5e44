"""One ClickHouse client per process, for the embedded engine (chDB) or a server.

The embedded engine lets one process open a data directory at a time, so the process that runs
the sink owns the store and serves queries for others (the HTTP API). A ``http(s)://`` DSN
points the same code at a ClickHouse server.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import clickhouse_connect
import orjson

from ailedger.settings import CommonSettings


class StoreError(RuntimeError):
    pass


class StoreLocked(StoreError):
    """Another process owns the embedded store; reach it through that process's API."""


class Store:
    """Thread-safe wrapper: chDB's embedded session is shared by every client in the process."""

    def __init__(self, dsn: str, database: str):
        self.dsn = dsn
        self.database = database
        self.embedded = dsn.startswith("chdb://")
        self._lock = threading.RLock()
        try:
            admin = clickhouse_connect.get_client(dsn=dsn)
            admin.command(f"CREATE DATABASE IF NOT EXISTS {database}")
            self.client = clickhouse_connect.get_client(dsn=dsn, database=database)
        except Exception as exc:  # noqa: BLE001 - translate the lock error into something actionable
            text = str(exc)
            if "Cannot lock file" in text or "already running" in text or "already initialized" in text:
                raise StoreLocked(
                    f"the embedded ClickHouse at {dsn} is owned by another process (is `ailedger up` running?); "
                    "use the HTTP API or stop that process"
                ) from exc
            raise StoreError(f"cannot open ClickHouse at {dsn}: {text}") from exc

    @classmethod
    def from_settings(cls, settings: CommonSettings, database: str | None = None) -> "Store":
        return cls(settings.resolved_clickhouse_dsn, database or settings.clickhouse_database)

    def query(self, sql: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None):
        with self._lock:
            return self.client.query(sql, parameters=parameters, settings=settings)

    def raw_rows(self, sql: str) -> list[list[Any]]:
        """Rows of a complete query (no parameters), as JSON values (64-bit integers as strings).

        For queries whose text is large (thousands of ids): ``query`` runs clickhouse-connect's
        text analysis (comments, LIMIT, command detection: five regular expressions over the whole
        text), which cost as much as the engine on a 185 kB id list; ``raw_query`` sends it as is."""
        with self._lock:
            body = self.client.raw_query(sql, fmt="JSONCompact")
        return orjson.loads(body)["data"]

    def rows(self, sql: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None):
        """Result as (column_names, rows)."""
        result = self.query(sql, parameters, settings)
        return list(result.column_names), result.result_rows

    def dicts(self, sql: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None):
        names, rows = self.rows(sql, parameters, settings)
        return [dict(zip(names, row)) for row in rows]

    def command(self, sql: str, parameters: dict[str, Any] | None = None, settings: dict[str, Any] | None = None):
        with self._lock:
            return self.client.command(sql, parameters=parameters, settings=settings)

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        dedup_token: str | None = None,
    ) -> None:
        settings = {"insert_deduplication_token": dedup_token} if dedup_token else None
        with self._lock:
            self.client.insert(table, rows, column_names=list(column_names), settings=settings)

    def insert_raw(
        self,
        table: str,
        data: bytes,
        column_names: Sequence[str],
        fmt: str = "JSONCompactEachRow",
        dedup_token: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Insert rows already encoded in ``fmt``: the engine parses them (no per-value Python work)."""
        settings = dict(settings or {})
        if dedup_token:
            settings["insert_deduplication_token"] = dedup_token
        with self._lock:
            self.client.raw_insert(table, list(column_names), data, settings=settings or None, fmt=fmt)

    def drop_database(self) -> None:
        with self._lock:
            self.client.command(f"DROP DATABASE IF EXISTS {self.database}")

    def close(self) -> None:
        with self._lock:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
