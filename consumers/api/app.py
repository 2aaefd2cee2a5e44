"""The HTTP API and dashboard: ``create_app(settings, store, publisher=..., extra_routers=...)``.

The serve process owns the store (one per process) and runs this app with uvicorn on
127.0.0.1. Endpoints: reports (JSON or CSV), the calls explorer, ratings, pricing (admin),
read-only SQL (admin), each stage's lag (admin, ``/v1/pipeline/lag``), ``/healthz``, ``/openapi.json``
and the dashboard at ``/``.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from typing import Any, Callable, Iterable, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ailedger import __version__
from ailedger.settings import CommonSettings
from consumers.api import keys, pipeline, pricing, ratings
from consumers.api.auth import Principal, authenticate, require_admin
from consumers.clickhouse.store import Store
from consumers.reports import REGISTRY, ReportError, ReportParams, ReportResult, UnknownReport, run_report
from consumers.reports.base import jsonable
from consumers.reports.readonly_sql import DEFAULT_MAX_ROWS, NotReadOnly, run_read_only

Publisher = Callable[[str, bytes, bytes], None]
STATIC = resources.files("consumers.api") / "static"


def report_params(
    start: datetime | None = Query(None, description="inclusive, ISO 8601 (UTC if no zone)"),
    end: datetime | None = Query(None, description="exclusive"),
    account_id: str | None = None,
    granularity: Literal["hour", "day", "week", "month", "quarter", "year"] = "day",
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
    user_id: str | None = None,
    prompt_type: str | None = None,
    operation: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    success: bool | None = None,
    search: str | None = None,
    event_id: str | None = None,
    task_id: str | None = None,
) -> dict:
    return dict(locals())


def _run(request: Request, principal: Principal, name: str, values: dict) -> ReportResult:
    spec = REGISTRY.get(name)
    if spec is None:
        raise HTTPException(404, f"unknown report {name!r}; reports: {', '.join(sorted(REGISTRY))}")
    if spec.admin_only and not principal.is_admin:
        raise HTTPException(403, f"the {name} report needs an admin key")
    values = dict(values, account_id=principal.scope(values.get("account_id")))
    try:
        return run_report(request.app.state.store, name, ReportParams(**values))
    except UnknownReport as exc:
        raise HTTPException(404, str(exc)) from None
    except ReportError as exc:
        raise HTTPException(400, str(exc)) from None


def _respond(result: ReportResult, fmt: str, section: str | None) -> Response:
    if fmt == "csv":
        try:
            text = result.to_csv(section)
        except ReportError as exc:
            raise HTTPException(400, str(exc)) from None
        filename = f"{result.name}{'-' + section if section else ''}-{date.today().isoformat()}.csv"
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return JSONResponse(result.to_json())


class SqlIn(BaseModel):
    sql: str = Field(min_length=1, max_length=100_000)
    max_rows: int = Field(DEFAULT_MAX_ROWS, ge=1, le=100_000)


def api_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["meta"])
    def healthz(request: Request) -> Any:
        """200 when the store answers and every consumer thread runs; 503 naming those that do not."""
        request.app.state.store.rows("SELECT 1")
        problems = request.app.state.health()
        if problems:
            return JSONResponse({"status": "failing", "version": __version__, "consumers": problems}, status_code=503)
        return {"status": "ok", "version": __version__}

    @router.get("/v1/whoami", tags=["meta"], summary="The caller's key, account and role")
    def whoami(principal: Principal = Depends(authenticate)) -> dict:
        return {"key_id": principal.key_id, "account_id": principal.account_id, "is_admin": principal.is_admin}

    @router.get("/v1/reports", tags=["reports"], summary="The named reports")
    def list_reports(principal: Principal = Depends(authenticate)) -> list[dict]:
        return [{"name": s.name, "title": s.title, "description": s.description, "admin_only": s.admin_only}
                for s in sorted(REGISTRY.values(), key=lambda s: s.name)]

    @router.get("/v1/reports/{name}", tags=["reports"], summary="Run a report (JSON, or CSV with format=csv)")
    def get_report(name: str, request: Request, values: dict = Depends(report_params),
                   format: Literal["json", "csv"] = "json", section: str | None = None,
                   principal: Principal = Depends(authenticate)) -> Response:
        return _respond(_run(request, principal, name, values), format, section)

    @router.get("/v1/calls", tags=["calls"], summary="Calls explorer: newest first, filtered, paginated")
    def list_calls(request: Request, values: dict = Depends(report_params), format: Literal["json", "csv"] = "json",
                   principal: Principal = Depends(authenticate)) -> Response:
        return _respond(_run(request, principal, "calls", values), format, None)

    @router.get("/v1/calls/{event_id}", tags=["calls"], summary="Every field of one call")
    def get_call(event_id: str, request: Request, principal: Principal = Depends(authenticate)) -> Response:
        try:
            result = _run(request, principal, "call", {"event_id": event_id})
        except HTTPException as exc:
            if exc.status_code == 400 and "no call" in str(exc.detail):
                raise HTTPException(404, exc.detail) from None
            raise
        return JSONResponse(result.to_json())

    @router.post("/v1/sql", tags=["sql"], summary="Read-only SQL (admin; ClickHouse readonly mode)")
    def post_sql(body: SqlIn, request: Request, principal: Principal = Depends(require_admin)) -> dict:
        try:
            result = run_read_only(request.app.state.store, body.sql, body.max_rows)
        except NotReadOnly as exc:
            raise HTTPException(400, str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - ClickHouse's message is the useful answer
            raise HTTPException(400, str(exc).split("\n")[0][:2000]) from None
        return {"columns": result.columns, "rows": jsonable(result.rows), "truncated": result.truncated}

    return router


def create_app(settings: CommonSettings, store: Store, *, publisher: Publisher | None = None,
               extra_routers: Iterable[APIRouter] = (), health: Callable[[], dict[str, str]] | None = None) -> FastAPI:
    """The API over ``store``. ``publisher(topic, key, value)`` sends ratings and price overrides
    to Kafka; ``extra_routers`` (ingest, prompt types, ...) are mounted as given; ``health()``
    names the failing consumers of the process (``/healthz``)."""
    app = FastAPI(title="ailedger", version=__version__,
                  description="Usage and cost of AI calls: reports, calls, ratings, pricing, SQL.")
    app.state.settings = settings
    app.state.store = store
    app.state.publisher = publisher
    app.state.health = health or dict
    app.include_router(api_router())
    app.include_router(ratings.router)
    app.include_router(pricing.router)
    app.include_router(keys.router)
    app.include_router(pipeline.router)
    for router in extra_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    return app
