"""``alerts``: recent alerts from ``ai_alerts`` (owned by the alert-delivery consumer, read with
``FINAL``); range defaults to the last 30 days. When the table does not exist, the report is
empty and says so in ``notes.available``."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import T64, Where, result_from, section

ALERT_DAYS = 30
COLUMNS = "occurred_at, severity, kind, subject, account_id, message, status, event_id, alert_id"


@report("alerts", "Recent alerts", "Alerts raised in the range, newest first, with their delivery status.")
def alerts(store: Store, params: ReportParams) -> ReportResult:
    _, exists = store.rows("EXISTS TABLE ai_alerts")
    if not exists[0][0]:
        return ReportResult("alerts", COLUMNS.split(", "), [], notes={"available": False})
    params = params.with_default_range(ALERT_DAYS)
    where = Where().add(f"occurred_at >= {{start:{T64}}}", start=params.start)
    where.add(f"occurred_at < {{end:{T64}}}", end=params.end)
    if params.account_id is not None:
        where.add("account_id = {account_id:String}", account_id=params.account_id)
    latest = section(store, "alerts", "Recent alerts",
                     f"SELECT {COLUMNS} FROM ai_alerts FINAL {where.sql} ORDER BY occurred_at DESC "
                     "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                     where.params | {"limit": params.limit, "offset": params.offset})
    return result_from("alerts", latest, [], available=True)
