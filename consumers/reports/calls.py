"""Per-call reports over ``ai_calls FINAL``: the ``calls`` explorer (newest first, filtered,
searched, paginated) and ``call`` (every field of one event). The explorer's range defaults to
the last 30 days."""

from __future__ import annotations

import uuid

from consumers.clickhouse.store import Store
from consumers.reports.base import ReportError, ReportParams, ReportResult, report
from consumers.reports.query import raw_where, result_from, section

EXPLORER_DAYS = 30

LIST_COLUMNS = """
    toString(event_id) AS event_id, occurred_at, account_id, user_id, prompt_type, operation, provider, model,
    input_tokens, output_tokens, total_tokens, latency_ms, success, error_type,
    substring(error_message, 1, 200) AS error_message, cached,
    if(priced, cost_total_usd, NULL) AS cost_usd, priced, task_id"""

#: The sink's bookkeeping columns are not part of a call's detail.
HIDDEN = "is_new, prev_priced, prev_cost_total_usd, prev_credits"


def _event_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text.strip()))
    except (ValueError, AttributeError):
        raise ReportError(f"not an event id (UUID): {text!r}") from None


def explorer_where(params: ReportParams):
    where = raw_where(params.with_default_range(EXPLORER_DAYS))
    if params.event_id:
        where.add("event_id = {event_id:UUID}", event_id=_event_uuid(params.event_id))
    if params.task_id:
        where.add("task_id = {task_id:String}", task_id=params.task_id)
    if params.search:
        where.add("(positionCaseInsensitive(error_message, {search:String}) > 0 "
                  "OR positionCaseInsensitive(error_type, {search:String}) > 0 "
                  "OR toString(event_id) = lower({search:String}))", search=params.search.strip())
    return where


@report("calls", "Calls explorer", "Individual calls, newest first: filter by time, account, user, prompt type, "
        "operation, model, success; search error messages or event ids; paginate with limit/offset.")
def calls(store: Store, params: ReportParams) -> ReportResult:
    where = explorer_where(params)
    page = section(store, "calls", "Calls",
                   f"SELECT {LIST_COLUMNS} FROM ai_calls FINAL {where.sql} "
                   "ORDER BY occurred_at DESC, event_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
                   where.params | {"limit": params.limit, "offset": params.offset})
    # Exact without FINAL: every call has one row with is_new = 1 (its first stored version), and
    # the explorer's filters are on the event's own fields, the same in every version.
    _, count = store.rows(f"SELECT count() FROM ai_calls {where.also('is_new = 1').sql}", where.params)
    return result_from("calls", page, [], total=count[0][0], limit=params.limit, offset=params.offset,
                       start=where.params.get("start"), end=where.params.get("end"))


@report("call", "Call detail", "Every field of one call (event_id=...), with its ratings.")
def call(store: Store, params: ReportParams) -> ReportResult:
    if not params.event_id:
        raise ReportError("the call report needs event_id")
    event_id = _event_uuid(params.event_id)
    args = {"event_id": event_id}
    account = ""
    if params.account_id is not None:
        account, args["account_id"] = " AND account_id = {account_id:String}", params.account_id
    detail = section(store, "call", "Call",
                     f"SELECT * EXCEPT ({HIDDEN}) FROM ai_calls FINAL WHERE event_id = {{event_id:UUID}}{account}",
                     args)
    if not detail.rows:
        raise ReportError(f"no call with event_id {event_id}")
    rated = section(store, "ratings", "Ratings",
                    "SELECT rated_by, rating, rated_at FROM ai_ratings FINAL "
                    f"WHERE event_id = {{event_id:UUID}}{account} ORDER BY rated_at", args)
    return result_from("call", detail, [rated])
