"""Assemble the one API of the local stack: reports, calls, ratings, pricing, SQL and keys
(``consumers.api``), event ingest (``producers.http_ingest``) and prompt types and budgets
(``consumers.prompt_types_api``), sharing one Kafka publisher and one authentication."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from ailedger.settings import ApiSettings
from consumers.api.app import create_app
from consumers.api.auth import Principal, authenticate


def ingest_account(principal: Principal = Depends(authenticate)) -> str:
    """Who may ingest what: an account key writes its own account; an admin key any account."""
    from producers.http_ingest import ANY_ACCOUNT

    return ANY_ACCOUNT if principal.is_admin else str(principal.account_id)


def build_api(settings: ApiSettings, services: Any) -> FastAPI:
    from consumers.prompt_types_api import kafka_publisher, make_prompt_types_router, start_views
    from producers.http_ingest import make_ingest_router

    publish = kafka_publisher(settings)
    views = start_views(settings)
    services.on_stop(lambda: _close(publish, views))
    routers = [
        make_ingest_router(settings, authenticate=ingest_account),
        make_prompt_types_router(settings, views["view_stats"], views["view_configs"], publish, authenticate,
                                 view_budgets=views["view_budgets"], view_daily=views["view_daily"]),
    ]
    return create_app(settings, services.store, publisher=publish, extra_routers=routers, health=services.problems)


def _close(publish: Any, views: dict[str, Any]) -> None:
    for view in views.values():
        view.close()
    close = getattr(publish, "close", None)
    if close is not None:
        close()
