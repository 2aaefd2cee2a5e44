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
from consumers.reports import (  # noqa: E402,F401 - each module registers its reports
    alerts,
    calls,
    cost,
    cost_analysis,
    metrics,
    projection,
    prompt_types,
    tasks,
    token_usage,
    users,
)

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
