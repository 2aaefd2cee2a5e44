"""Readable terminal tables for report results (rich)."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from consumers.reports.base import ReportResult, Section, as_utc

_MONEY_HINTS = ("cost", "usd", "spend")


def format_cell(column: str, value: Any) -> str:
    """Money with $ and significant decimals, counts with thousands separators, NULL money as 'unpriced'."""
    money = any(h in column for h in _MONEY_HINTS) and "unpriced" not in column
    if value is None or value == "":
        return "unpriced" if money else "-"
    if money:
        try:
            return format_usd(Decimal(str(value)))
        except ArithmeticError:
            return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    if isinstance(value, Decimal):
        return f"{value:,.4f}"
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_usd(amount: Decimal) -> str:
    """$1,234.57 for large amounts; tiny amounts keep 4 significant digits ($0.0001234)."""
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    digits = f"{abs(amount):.12f}".rstrip("0")
    lead = len(digits.split(".")[1]) - len(digits.split(".")[1].lstrip("0"))
    places = max(2, min(12, lead + 4))
    return f"{'-' if amount < 0 else ''}${abs(amount):.{places}f}".rstrip("0").rstrip(".")


def _table(section: Section) -> Table:
    table = Table(title=section.title, title_justify="left", header_style="bold")
    for column in section.columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in section.rows:
        table.add_row(*(format_cell(c, v) for c, v in zip(section.columns, row)))
    if not section.rows:
        table.caption = "no rows"
    return table


def render_table(result: ReportResult, width: int = 160) -> str:
    """The report's main table and sections as plain text tables."""
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    if result.columns:
        console.print(_table(Section(result.name, result.name.replace("_", " ").title(), result.columns,
                                     result.rows)))
    for section in result.sections:
        console.print(_table(section))
    for key, value in result.notes.items():
        console.print(f"{key}: {value}")
    return out.getvalue()
