"""Report parameters, results and the registry of named reports.

A report is a function ``(store, params) -> ReportResult`` registered under a name. Every value
that comes from a caller reaches ClickHouse as a server-side parameter ``{name:Type}``; the only
text spliced into SQL comes from fixed whitelists in this package (column names, bucket
functions).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Literal
from uuid import UUID

from consumers.clickhouse.store import Store

Granularity = Literal["hour", "day", "week", "month", "quarter", "year"]
GRANULARITIES: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year")

#: Bucket expressions per granularity (``{col}`` is the time column).
BUCKETS = {
    "hour": "toStartOfHour({col})",
    "day": "toStartOfDay({col})",
    "week": "toStartOfWeek({col}, 1)",
    "month": "toStartOfMonth({col})",
    "quarter": "toStartOfQuarter({col})",
    "year": "toStartOfYear({col})",
}

MAX_LIMIT = 10_000


class ReportError(ValueError):
    """Bad report name or parameters (the caller's mistake: HTTP 400/404)."""


class UnknownReport(ReportError):
    pass


@dataclass(frozen=True)
class ReportParams:
    """What a report is asked for. ``start`` is inclusive, ``end`` exclusive; both UTC.

    ``account_id`` restricts every row to one account (the API forces it for account keys).
    The remaining filters are used by the reports that understand them (the calls explorer).
    """

    start: datetime | None = None
    end: datetime | None = None
    account_id: str | None = None
    granularity: Granularity = "day"
    limit: int = 100
    offset: int = 0
    user_id: str | None = None
    prompt_type: str | None = None
    operation: str | None = None
    provider: str | None = None
    model: str | None = None
    success: bool | None = None
    search: str | None = None
    event_id: str | None = None
    task_id: str | None = None

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise ReportError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {self.granularity!r}")
        if not 1 <= int(self.limit) <= MAX_LIMIT:
            raise ReportError(f"limit must be between 1 and {MAX_LIMIT}")
        if int(self.offset) < 0:
            raise ReportError("offset must be >= 0")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_utc(value))
        if self.start and self.end and self.start >= self.end:
            raise ReportError("start must be before end")

    def with_default_range(self, days: int) -> "ReportParams":
        """The same params with a bounded range (per-call reports never scan all history)."""
        end = self.end or datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
        start = self.start or end - timedelta(days=days)
        return replace(self, start=start, end=end)

    def to_query(self) -> dict[str, str]:
        """Non-default params as strings (for the HTTP API's query string)."""
        out: dict[str, str] = {}
        for key, value in self.__dict__.items():
            if value is None or value == ReportParams.__dataclass_fields__[key].default:
                continue
            out[key] = value.isoformat() if isinstance(value, datetime) else str(value).lower() if isinstance(
                value, bool) else str(value)
        return out


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass
class Section:
    """One table of a report."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "columns": self.columns,
                "rows": [dict(zip(self.columns, (jsonable(v) for v in row))) for row in self.rows]}


@dataclass
class ReportResult:
    """A report's main table plus optional named sections; ``notes`` explain figures."""

    name: str
    columns: list[str]
    rows: list[list[Any]]
    sections: list[Section] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise ReportError(f"report {self.name!r} has no section {name!r}; it has: "
                          + ", ".join(s.name for s in self.sections))

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; Decimal money as strings (exact), times as ISO 8601."""
        main = Section(self.name, self.name, self.columns, self.rows).to_json()
        return {"name": self.name, "columns": self.columns, "rows": main["rows"],
                "sections": [s.to_json() for s in self.sections],
                "notes": {k: jsonable(v) for k, v in self.notes.items()}}

    def to_csv(self, section: str | None = None) -> str:
        """The main table as CSV, or the named section's."""
        table = self.section(section) if section else Section(self.name, self.name, self.columns, self.rows)
        if not table.columns and self.sections and section is None:
            table = self.sections[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["" if v is None else jsonable(v) for v in row])
        return out.getvalue()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ReportResult":
        """Rebuild a result fetched from the HTTP API (values stay as JSON gave them)."""
        def rows(cols, items):
            return [[item.get(c) for c in cols] for item in items]

        sections = [Section(s["name"], s.get("title", s["name"]), s["columns"], rows(s["columns"], s["rows"]))
                    for s in data.get("sections", [])]
        return cls(data["name"], data["columns"], rows(data["columns"], data["rows"]), sections,
                   data.get("notes", {}))


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f").rstrip("0")
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    description: str
    run: Callable[[Store, ReportParams], ReportResult]
    admin_only: bool = False


REGISTRY: dict[str, ReportSpec] = {}


def report(name: str, title: str, description: str, *, admin_only: bool = False):
    """Register a report function under ``name``."""
    def decorate(fn: Callable[[Store, ReportParams], ReportResult]):
        if name in REGISTRY:
            raise ValueError(f"report {name!r} is already registered")
        REGISTRY[name] = ReportSpec(name, title, description, fn, admin_only)
        return fn
    return decorate


def run_report(store: Store, name: str, params: ReportParams | None = None) -> ReportResult:
    """Run the named report. Raises :class:`UnknownReport` for a name not registered."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise UnknownReport(f"unknown report {name!r}; reports: {', '.join(sorted(REGISTRY))}")
    return spec.run(store, params or ReportParams())
