"""Named analytics reports over ClickHouse: ``run_report(store, name, params)``.

Importing this package registers every report module.
"""

from consumers.reports.base import (
    GRANULARITIES,
    REGISTRY,
    ReportError,
    ReportParams,
    ReportResult,
    Section,
    UnknownReport,
    run_report,
)
from consumers.reports.render import render_table
from consumers.reports import cost  # noqa: E402,F401 - registers the report

__all__ = [
    "GRANULARITIES",
    "REGISTRY",
    "ReportError",
    "ReportParams",
    "ReportResult",
    "Section",
    "UnknownReport",
    "render_table",
    "run_report",
]
