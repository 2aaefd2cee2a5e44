"""HTTP router for prompt types (statistics, latest call, config), budgets and daily usage.

``make_prompt_types_router(settings, view_stats, view_configs, publish, authenticate=None, ...)``
returns a FastAPI router for the API app's ``extra_routers``:

* ``GET /v1/prompt-types`` - every prompt type seen or configured, with its config and headline figures
* ``GET /v1/prompt-types/{id}`` - statistics (all time, last 1 h, last 24 h), latest call, config
* ``PATCH /v1/prompt-types/{id}`` - change ``description``, ``track_full_data``, ``is_active``
* ``GET /v1/budgets``, ``PUT /v1/budgets`` (upsert a list), ``DELETE /v1/budgets?key=...``
* ``GET /v1/usage/daily`` - daily usage per account, user and prompt type

Reads come from the compacted-topic views (``consumers.prompt_configs``) the worker publishes to;
writes go to the compacted topics through ``publish(topic, key, value)`` (``value=None`` is a
tombstone) and show at once (the view is updated locally). The rolling windows are computed at
read time, so they move with the clock even when no call comes.

With ``authenticate`` (a FastAPI dependency returning a principal with ``is_admin`` and
``scope(account_id)``), prompt types and budget changes need an admin; an account key reads its
own account's budgets and daily usage.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Callable

from fastapi import APIRouter, Body, Depends, HTTPException, Query

from ailedger import topics
from ailedger.settings import CommonSettings
from consumers.prompt_configs import BudgetsView, DailyUsageView, PromptConfigView, PromptStatsView
from schemas.codec import dumps
from schemas.prompt_config import Budget, PromptConfigPatch

Publish = Callable[[str, bytes, "bytes | None"], None]


def make_prompt_types_router(settings: CommonSettings, view_stats: PromptStatsView, view_configs: PromptConfigView,
                             publish: Publish, authenticate: Callable[..., Any] | None = None, *,
                             view_budgets: BudgetsView | None = None,
                             view_daily: DailyUsageView | None = None) -> APIRouter:
    router = APIRouter(tags=["prompt types"])

    async def no_auth() -> None:
        return None

    principal_of = Depends(authenticate or no_auth)

    def admin(principal: Any) -> None:
        if principal is not None and not getattr(principal, "is_admin", False):
            raise HTTPException(403, "prompt types and budget changes need an admin key")

    def scoped(principal: Any, account_id: str | None) -> str | None:
        return principal.scope(account_id) if principal is not None else account_id

    def send(topic: str, key: str, value: bytes | None) -> None:
        try:
            publish(settings.topic(topic), key.encode(), value)
        except Exception as exc:  # noqa: BLE001 - the broker's refusal is the answer
            raise HTTPException(503, f"could not publish to {topic}: {exc}") from None

    def detail(prompt_type: str) -> dict[str, Any]:
        stats = view_stats.get(prompt_type)
        if stats is None and not view_configs.known(prompt_type):
            raise HTTPException(404, f"prompt type {prompt_type!r} has not been seen or configured")
        return {
            "prompt_type": prompt_type,
            "config": view_configs.get(prompt_type).model_dump(mode="json"),
            "statistics": stats.view().model_dump(mode="json") if stats else None,
            "snapshot": stats.snapshot.model_dump(mode="json") if stats and stats.snapshot else None,
            "published_at": stats.published_at.isoformat() if stats else None,
        }

    @router.get("/v1/prompt-types")
    def list_prompt_types(principal: Any = principal_of) -> dict[str, Any]:
        admin(principal)
        out = []
        for prompt_type in sorted(set(view_stats.keys()) | set(view_configs.keys())):
            stats = view_stats.get(prompt_type)
            figures = stats.view() if stats else None
            out.append({
                "prompt_type": prompt_type,
                "config": view_configs.get(prompt_type).model_dump(mode="json"),
                "calls": figures.all_time.calls if figures else 0,
                "errors": figures.all_time.errors if figures else 0,
                "cost_usd": str(figures.all_time.cost_usd) if figures else "0",
                "avg_cost_per_call_usd": (str(figures.all_time.avg_cost_per_call_usd)
                                          if figures and figures.all_time.avg_cost_per_call_usd is not None else None),
                "calls_last_1h": figures.last_1h.calls if figures else 0,
                "last_call_at": figures.last_call_at.isoformat() if figures and figures.last_call_at else None,
            })
        return {"prompt_types": out, "complete": view_stats.ready and view_configs.ready}

    @router.get("/v1/prompt-types/{prompt_type:path}")
    def get_prompt_type(prompt_type: str, principal: Any = principal_of) -> dict[str, Any]:
        admin(principal)
        return detail(prompt_type)

    @router.patch("/v1/prompt-types/{prompt_type:path}")
    def patch_prompt_type(prompt_type: str, patch: PromptConfigPatch, principal: Any = principal_of) -> dict:
        admin(principal)
        if not prompt_type or len(prompt_type) > 200:
            raise HTTPException(422, "a prompt type is 1 to 200 characters")
        config = patch.apply(view_configs.get(prompt_type), datetime.now(timezone.utc))
        send(topics.PROMPT_CONFIGS, prompt_type, dumps(config))
        view_configs.put_local(prompt_type, config)
        return config.model_dump(mode="json")

    def budgets_view() -> BudgetsView:
        if view_budgets is None:
            raise HTTPException(503, "this server has no budgets view")
        return view_budgets

    @router.get("/v1/budgets")
    def list_budgets(principal: Any = principal_of) -> dict[str, Any]:
        account = scoped(principal, None)
        budgets = [b for b in budgets_view().all() if account is None or b.account_id == account]
        return {"budgets": [b.model_dump(mode="json") | {"key": b.key} for b in budgets]}

    @router.put("/v1/budgets")
    def put_budgets(budgets: list[Budget] = Body(..., embed=True), principal: Any = principal_of) -> dict:
        admin(principal)
        view = budgets_view()
        now = datetime.now(timezone.utc)
        saved = []
        for budget in budgets:
            budget = budget.model_copy(update={"updated_at": now})
            send(topics.BUDGETS, budget.key, dumps(budget))
            view.put_local(budget.key, budget)
            saved.append(budget.model_dump(mode="json") | {"key": budget.key})
        return {"budgets": saved}

    @router.delete("/v1/budgets")
    def delete_budget(key: str = Query(..., min_length=1), principal: Any = principal_of) -> dict:
        admin(principal)
        view = budgets_view()
        if view.get_value(key) is None:
            raise HTTPException(404, f"no budget {key!r} set through the API (budgets-file entries stay)")
        send(topics.BUDGETS, key, None)
        view.put_local(key, None)
        return {"deleted": key}

    @router.get("/v1/usage/daily")
    def daily_usage(account_id: str | None = None, user_id: str | None = None, prompt_type: str | None = None,
                    since: date | None = None, until: date | None = None, principal: Any = principal_of) -> dict:
        if view_daily is None:
            raise HTTPException(503, "this server has no daily-usage view")
        rows = view_daily.query(scoped(principal, account_id), user_id, prompt_type, since, until)
        return {"rows": [r.model_dump(mode="json", exclude={"applied_offset"}) for r in rows]}

    return router


def kafka_publisher(settings: CommonSettings) -> Publish:
    """A synchronous ``publish(topic, key, value)``: returns once the broker has the record."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=0,
                             client_id="ailedger-prompt-types-api")

    def publish(topic: str, key: bytes, value: bytes | None) -> None:
        producer.send(topic, key=key, value=value).get(timeout=10)

    publish.close = producer.close  # type: ignore[attr-defined]
    return publish


def start_views(settings: CommonSettings) -> dict[str, Any]:
    """The four views this router reads, started (the serve process keeps them for its lifetime)."""
    from stream_processors.alerts.budgets import load_budgets_file
    from stream_processors.alerts.rules import budgets_file_from_env

    return {
        "view_stats": PromptStatsView(settings).start(),
        "view_configs": PromptConfigView(settings).start(),
        "view_budgets": BudgetsView(settings, load_budgets_file(budgets_file_from_env())).start(),
        "view_daily": DailyUsageView(settings).start(),
    }
