"""HTTP ingest for services in any language: ``POST /v1/events``.

The body is one event, a JSON list of events, or a batch envelope
``{"type": "ai.batch.v1", "items": [...]}``. Each event is validated on its own: the valid
ones are published, the invalid ones are listed in the response with their index, event id
and a reason naming the field. The answer is ``202`` only once the broker has acknowledged
every accepted event (``503`` with ``Retry-After`` if it does not within ``ack_timeout_s``;
re-sending is safe: events are deduplicated downstream by their client-made ``event_id``,
which is therefore required). ``413`` above ``max_body_bytes`` or ``max_events``;
``422`` when no event is valid; ``400`` for a body that is not JSON.

Mount it with ``app.include_router(make_ingest_router(settings, publisher, authenticate))``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Callable, Mapping, Protocol

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ailedger.settings import CommonSettings
from producers.sender import PublishError
from schemas.codec import DecodeError, event_to_dict, parse_event, unpack

log = logging.getLogger(__name__)

#: An ``authenticate`` result that may write events of any account.
ANY_ACCOUNT = "*"


class EventPublisher(Protocol):
    def send_and_wait(self, events: list[dict[str, Any]], timeout: float) -> int: ...


def static_key_auth(keys: Mapping[str, str]) -> Callable[..., str]:
    """An ``authenticate`` dependency over a fixed ``{api_key: account_id}`` map (use
    :data:`ANY_ACCOUNT` as the account for a key that may write any account). The key comes in
    ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; anything else is a 401."""
    known = dict(keys)

    def authenticate(
        authorization: str | None = Header(default=None),
        x_api_key: str | None = Header(default=None),
    ) -> str:
        presented = x_api_key
        if presented is None and authorization and authorization.lower().startswith("bearer "):
            presented = authorization[7:].strip()
        if presented:
            for key, account in known.items():
                if hmac.compare_digest(presented.encode(), key.encode()):
                    return account
        raise HTTPException(status_code=401, detail="missing or unknown API key",
                            headers={"WWW-Authenticate": "Bearer"})

    return authenticate


def _account_of(principal: Any) -> str:
    if isinstance(principal, str):
        return principal
    account = getattr(principal, "account_id", None)
    if not isinstance(account, str) or not account:
        raise HTTPException(status_code=401, detail="the API key is not bound to an account")
    return account


def _default_auth(settings: CommonSettings) -> Callable[..., str]:
    admin = getattr(settings, "admin_key", None)
    secret = admin.get_secret_value() if admin is not None else ""
    if not secret:
        log.warning("ingest router without authenticate= and without an admin key: every request is 401")
    return static_key_auth({secret: ANY_ACCOUNT} if secret else {})


def make_ingest_router(
    settings: CommonSettings,
    publisher: EventPublisher | None = None,
    authenticate: Callable[..., Any] | None = None,
    *,
    max_body_bytes: int = 5 * 1024 * 1024,
    max_events: int = 10_000,
    ack_timeout_s: float = 10.0,
) -> APIRouter:
    """The ``POST /v1/events`` router.

    ``publisher`` defaults to a :class:`~producers.sender.KafkaSender` on ``settings``.
    ``authenticate`` is a FastAPI dependency returning the caller's account id (or an object
    with ``account_id``; :data:`ANY_ACCOUNT` for any) or raising 401; by default only the
    ``admin_key`` of :class:`~ailedger.settings.ApiSettings` is accepted. Events without an
    ``account_id`` get the caller's; events of another account are rejected.
    """
    own_publisher = publisher is None  # closed when the app shuts down
    if publisher is None:
        from producers.config import LedgerSettings
        from producers.sender import KafkaSender

        publisher = KafkaSender(LedgerSettings(**settings.model_dump(include=set(CommonSettings.model_fields))))
    auth = authenticate if authenticate is not None else _default_auth(settings)
    router = APIRouter(tags=["ingest"], on_shutdown=[publisher.close] if own_publisher else [])

    @router.post("/v1/events", status_code=202, summary="Ingest AI call events (ai.call.v1)")
    async def ingest(request: Request, principal: Any = Depends(auth)) -> JSONResponse:
        account = _account_of(principal)
        raw = await _read_limited(request, max_body_bytes)
        try:
            items = unpack(raw)
        except DecodeError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        if not items:
            raise HTTPException(status_code=400, detail="no events in the request")
        if len(items) > max_events:
            raise HTTPException(status_code=413, detail=f"{len(items)} events; the limit is {max_events}")
        events, rejected = validate_items(items, account)
        if not events:
            return JSONResponse({"accepted": 0, "event_ids": [], "rejected": rejected}, status_code=422)
        try:
            await run_in_threadpool(publisher.send_and_wait, events, ack_timeout_s)
        except PublishError as exc:
            log.warning("ingest: broker unavailable: %s", exc)
            return JSONResponse({"detail": "event broker unavailable; retry later"}, status_code=503,
                                headers={"Retry-After": "5"})
        return JSONResponse(
            {"accepted": len(events), "event_ids": [str(e["event_id"]) for e in events], "rejected": rejected},
            status_code=202,
        )

    return router


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"body of {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise HTTPException(status_code=413, detail=f"body over the limit of {limit} bytes")
    return bytes(body)


def validate_items(items: list[Any], account: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid events as dicts, errors as ``{index, event_id, reason}``) for one request."""
    events: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        event_id = item.get("event_id") if isinstance(item, dict) else None
        event_id = None if event_id is None else str(event_id)
        try:
            if isinstance(item, dict) and account != ANY_ACCOUNT:
                claimed = item.get("account_id")
                if claimed is None:
                    item = {**item, "account_id": account}
                elif claimed != account:
                    raise ValueError(f"account_id: {claimed!r} is not the account of this API key")
            event = parse_event(item)
            key = str(event.event_id)
            if key in seen:
                raise ValueError(f"event_id: {key} appears twice in this request")
            seen.add(key)
            events.append(event_to_dict(event))
        except ValueError as exc:  # includes DecodeError and UnknownSchemaVersion
            reason = str(exc) if not str(exc).startswith("unknown event type") else f"type: {exc}"
            rejected.append({"index": index, "event_id": event_id, "reason": reason})
    return events, rejected
