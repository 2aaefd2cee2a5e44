"""API keys and the ``authenticate`` dependency.

A key looks like ``ail_<key_id>_<secret>``; only ``sha256(salt + secret)`` and the salt are
stored (table ``api_keys``), so a key is shown once, at creation. Send it as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

* An account key sees only its account's rows: the account filter is forced server-side.
* An admin key (or ``AILEDGER_ADMIN_KEY``) sees everything and may use the admin endpoints.
* Local development: while no key exists at all and no admin key is configured, requests from
  loopback to a server bound to loopback are admitted as admin.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from fastapi import Depends, HTTPException, Request

from consumers.clickhouse.store import Store

PREFIX = "ail"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (``account_id`` set) or an admin (``account_id`` None)."""

    key_id: str
    account_id: str | None
    is_admin: bool

    def scope(self, requested: str | None) -> str | None:
        """The account filter to apply: an account key is always held to its own account."""
        return requested if self.is_admin else self.account_id


@dataclass(frozen=True)
class NewKey:
    key_id: str
    account_id: str
    is_admin: bool
    key: str


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}{secret}".encode()).hexdigest()


def create_key(store: Store, account_id: str, *, admin: bool = False, name: str = "") -> NewKey:
    """Store a new key (hashed) and return it; the plain key is not kept anywhere."""
    if not account_id.strip():
        raise ValueError("an API key needs an account")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    now = datetime.now(timezone.utc)
    store.insert("api_keys", [[key_id, account_id, admin, name, salt, _hash(salt, secret), False, now, now]],
                 ["key_id", "account_id", "is_admin", "name", "salt", "key_hash", "revoked", "created_at",
                  "updated_at"])
    return NewKey(key_id, account_id, admin, f"{PREFIX}_{key_id}_{secret}")


def revoke_key(store: Store, key_id: str) -> bool:
    """Mark a key revoked (a newer row of the same key_id). Returns False if it does not exist."""
    _, rows = store.rows("SELECT account_id, is_admin, name, salt, key_hash, created_at FROM api_keys FINAL "
                         "WHERE key_id = {key_id:String}", {"key_id": key_id})
    if not rows:
        return False
    store.insert("api_keys", [[key_id, *rows[0][:5], True, rows[0][5], datetime.now(timezone.utc)]],
                 ["key_id", "account_id", "is_admin", "name", "salt", "key_hash", "revoked", "created_at",
                  "updated_at"])
    return True


def list_keys(store: Store) -> list[dict]:
    return store.dicts("SELECT key_id, account_id, is_admin, name, revoked, created_at FROM api_keys FINAL "
                       "ORDER BY created_at")


def verify_key(store: Store, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key; ``None`` otherwise."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    _, key_id, secret = parts
    _, rows = store.rows("SELECT account_id, is_admin, salt, key_hash FROM api_keys FINAL "
                         "WHERE key_id = {key_id:String} AND NOT revoked", {"key_id": key_id})
    if not rows:
        return None
    account_id, is_admin, salt, key_hash = rows[0]
    if not hmac.compare_digest(_hash(salt, secret), key_hash):
        return None
    return Principal(key_id, None if is_admin else account_id, bool(is_admin))


def any_keys(store: Store) -> bool:
    _, rows = store.rows("SELECT count() FROM api_keys FINAL WHERE NOT revoked")
    return rows[0][0] > 0


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller's :class:`Principal`, or HTTP 401."""
    store: Store = request.app.state.store
    settings = request.app.state.settings
    admin_key = getattr(settings, "admin_key", None)
    key = presented_key(request)
    if key:
        if admin_key is not None and hmac.compare_digest(key.encode(), admin_key.get_secret_value().encode()):
            return Principal("admin-key", None, True)
        principal = verify_key(store, key)
        if principal is not None:
            return principal
        raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    client = request.client.host if request.client else None
    if admin_key is None and is_loopback(settings.api_host) and is_loopback(client) and not any_keys(store):
        return Principal("local", None, True)
    raise HTTPException(401, "an API key is required (Authorization: Bearer <key>)",
                        headers={"WWW-Authenticate": "Bearer"})


def require_admin(principal: Principal = Depends(authenticate)) -> Principal:
    """FastAPI dependency: an admin principal, or HTTP 403."""
    if not principal.is_admin:
        raise HTTPException(403, "this endpoint needs an admin key")
    return principal
