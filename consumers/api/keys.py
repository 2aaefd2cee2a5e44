"""``/v1/keys`` (admin): create, list and revoke API keys through the running server (the CLI
uses it when the serve process owns the embedded store)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from consumers.api.auth import Principal, create_key, list_keys, require_admin, revoke_key
from consumers.reports.base import jsonable

router = APIRouter(tags=["keys"])


class KeyIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    admin: bool = False
    name: str = Field("", max_length=200)


@router.post("/v1/keys", summary="Create an API key (admin); the key is returned once")
def post_key(body: KeyIn, request: Request, principal: Principal = Depends(require_admin)) -> dict:
    new = create_key(request.app.state.store, body.account_id, admin=body.admin, name=body.name)
    return {"key_id": new.key_id, "account_id": new.account_id, "admin": new.is_admin, "key": new.key}


@router.get("/v1/keys", summary="List API keys (admin; never the keys themselves)")
def get_keys(request: Request, principal: Principal = Depends(require_admin)) -> list[dict]:
    return jsonable(list_keys(request.app.state.store))


@router.delete("/v1/keys/{key_id}", summary="Revoke an API key (admin)")
def delete_key(key_id: str, request: Request, principal: Principal = Depends(require_admin)) -> dict:
    if not revoke_key(request.app.state.store, key_id):
        raise HTTPException(404, f"no key {key_id}")
    return {"key_id": key_id, "revoked": True}
