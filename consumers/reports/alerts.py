"""``alerts``: recent alerts from ``ai_alerts`` (a table owned by the alerting consumer). When
the table does not exist yet, the report is empty and says so in ``notes.available``."""

from __future__ import annotations

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportParams, ReportResult, report
from consumers.reports.query import T64, Where, result_from, section

ALERT_DAYS = 30


@report("alerts", "Recent alerts", "Alerts raised in the range, newest first (one row per alert id).")
def alerts(store: Store, params: ReportParams) -> ReportResult:
    _, exists = store.rows("EXISTS TABLE ai_alerts")
    if not exists[0][0]:
        return ReportResult("alerts", [], [], notes={"available": False})
    params = params.with_default_range(ALERT_DAYS)
    where = Where().add(f"occurred_at >= {{start:{T64}}}", start=params.start)
    where.add(f"occurred_at < {{end:{T64}}}", end=params.end)
    if params.account_id is not None:
        where.add("account_id = {account_id:String}", account_id=params.account_id)
    latest = section(store, "alerts", "Recent alerts",
                     f"SELECT * FROM ai_alerts {where.sql} ORDER BY occurred_at DESC LIMIT 1 BY alert_id "
                     "LIMIT {limit:UInt32}", where.params | {"limit": params.limit})
    return result_from("alerts", latest, [], available=True)
