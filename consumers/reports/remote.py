"""Reports and SQL through the running API, for processes that cannot open the embedded store
(it belongs to the ``serve`` process)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from ailedger.settings import CommonSettings
from consumers.reports.base import ReportParams, ReportResult
from consumers.reports.readonly_sql import SqlResult

TIMEOUT_SECONDS = 60.0


class RemoteError(RuntimeError):
    pass


def auth_headers() -> dict[str, str]:
    key = os.environ.get("AILEDGER_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def check_response(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise RemoteError(f"{response.request.url.path}: HTTP {response.status_code}: {detail}")
    return response.json()


def fetch_report(settings: CommonSettings, name: str, params: ReportParams) -> ReportResult:
    """``GET /v1/reports/{name}`` on ``settings.api_url``."""
    try:
        response = httpx.get(f"{settings.api_url}/v1/reports/{name}", params=params.to_query(),
                             headers=auth_headers(), timeout=TIMEOUT_SECONDS)
    except httpx.TransportError as exc:
        raise RemoteError(f"the store is owned by another process and its API at {settings.api_url} "
                          f"is not reachable: {exc}") from exc
    return ReportResult.from_json(check_response(response))


def remote_sql(settings: CommonSettings, sql: str, max_rows: int) -> SqlResult:
    """``POST /v1/sql`` on ``settings.api_url``."""
    try:
        response = httpx.post(f"{settings.api_url}/v1/sql", json={"sql": sql, "max_rows": max_rows},
                              headers=auth_headers(), timeout=TIMEOUT_SECONDS)
    except httpx.TransportError as exc:
        raise RemoteError(f"the store is owned by another process and its API at {settings.api_url} "
                          f"is not reachable: {exc}") from exc
    data = check_response(response)
    return SqlResult(data["columns"], data["rows"], data.get("truncated", False))
