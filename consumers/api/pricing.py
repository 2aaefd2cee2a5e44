"""``GET``/``PUT /v1/pricing`` (admin): price overrides.

``PUT`` validates a :class:`schemas.pricing.PriceOverride`, publishes it to the compacted
pricing topic (keyed by ``override.key``; the pricing worker applies it) and records it in
``price_overrides`` so ``GET`` can list what was published here. ``GET`` also shows, per model
seen in the last 30 days, the price source and version in use and how many calls are unpriced.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request

from ailedger import topics
from consumers.api.auth import Principal, require_admin
from consumers.reports.base import jsonable
from schemas.codec import dumps, loads
from schemas.pricing import PriceOverride

router = APIRouter(tags=["pricing"])

MODELS_IN_USE = """
SELECT provider, model, argMax(price_source, occurred_at) AS price_source,
       argMax(price_version, occurred_at) AS price_version, count() AS calls, countIf(NOT priced) AS unpriced_calls
FROM ai_calls FINAL
WHERE occurred_at >= now64(3) - INTERVAL 30 DAY
GROUP BY provider, model
ORDER BY calls DESC
"""


@router.get("/v1/pricing", summary="Price overrides and the prices in use (admin)")
def get_pricing(request: Request, principal: Principal = Depends(require_admin)) -> dict:
    store = request.app.state.store
    overrides = store.dicts("SELECT body, published_by, updated_at FROM price_overrides FINAL WHERE NOT deleted "
                            "ORDER BY provider, model, effective_from")
    models = store.dicts(MODELS_IN_USE)
    return {
        "overrides": [loads(o["body"]) | {"published_by": o["published_by"], "published_at": jsonable(o["updated_at"])}
                      for o in overrides],
        "models_last_30_days": jsonable(models),
    }


@router.put("/v1/pricing", summary="Publish a price override (admin)")
def put_pricing(override: PriceOverride, request: Request, principal: Principal = Depends(require_admin)) -> dict:
    publisher = request.app.state.publisher
    if publisher is None:
        raise HTTPException(503, "this server has no publisher: the override would not reach the pricing worker")
    settings = request.app.state.settings
    body = dumps(override)
    publisher(settings.topic(topics.PRICING), override.key.encode(), body)
    request.app.state.store.insert(
        "price_overrides",
        [[override.key, override.provider, override.model, override.effective_from, body.decode(), override.deleted,
          principal.key_id, datetime.now(timezone.utc)]],
        ["key", "provider", "model", "effective_from", "body", "deleted", "published_by", "updated_at"],
    )
    return {"published": True, "key": override.key, "version": override.version,
            "topic": settings.topic(topics.PRICING)}
