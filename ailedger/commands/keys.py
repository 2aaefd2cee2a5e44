"""``ailedger keys create|list|revoke``: API keys, stored hashed; a new key is printed once.

Works on the store directly, or through the running API (admin) when another process owns it.
"""

from __future__ import annotations

import os


def register(sub) -> None:
    p = sub.add_parser("keys", help="create, list or revoke API keys")
    ksub = p.add_subparsers(dest="keys_command", metavar="ACTION")
    c = ksub.add_parser("create", help="create a key and print it (once)")
    c.add_argument("--account", required=True, help="the account the key belongs to")
    c.add_argument("--admin", action="store_true", help="an admin key: sees every account, admin endpoints")
    c.add_argument("--name", default="", help="a label for the key")
    c.set_defaults(handler=create)
    ls = ksub.add_parser("list", help="list keys (ids, accounts; never the keys)")
    ls.set_defaults(handler=list_all)
    r = ksub.add_parser("revoke", help="revoke a key by its id")
    r.add_argument("key_id")
    r.set_defaults(handler=revoke)
    p.set_defaults(handler=list_all)


def _api(method: str, path: str, json=None):
    import httpx

    from ailedger.settings import CommonSettings
    from consumers.reports.remote import check_response, auth_headers

    url = CommonSettings().api_url
    try:
        response = httpx.request(method, f"{url}{path}", json=json, headers=auth_headers(), timeout=30)
    except httpx.TransportError as exc:
        raise RuntimeError(f"the store is owned by another process and its API at {url} is not reachable: {exc}")
    return check_response(response)


def create(args) -> int:
    from ailedger.commands.report import open_local_store
    from consumers.api.auth import create_key

    store = open_local_store()
    if store is None:
        data = _api("POST", "/v1/keys", {"account_id": args.account, "admin": args.admin, "name": args.name})
        key, key_id = data["key"], data["key_id"]
    else:
        new = create_key(store, args.account, admin=args.admin, name=args.name)
        key, key_id = new.key, new.key_id
        store.close()
    kind = "admin key" if args.admin else f"key for account {args.account}"
    print(f"created {kind} {key_id}; it is shown only now:\n{key}")
    if not os.environ.get("AILEDGER_API_KEY"):
        print("use it with: export AILEDGER_API_KEY=<key>  (or Authorization: Bearer <key>)")
    return 0


def list_all(args) -> int:
    from ailedger.commands.report import open_local_store
    from consumers.api.auth import list_keys

    store = open_local_store()
    keys = _api("GET", "/v1/keys") if store is None else list_keys(store)
    for k in keys:
        state = "revoked" if k["revoked"] else ("admin" if k["is_admin"] else "account")
        print(f"{k['key_id']:14} {k['account_id']:24} {state:8} {k['name']}")
    if not keys:
        print("no keys: the API is open to loopback clients as admin (local development)")
    return 0


def revoke(args) -> int:
    from ailedger.commands.report import open_local_store
    from consumers.api.auth import revoke_key

    store = open_local_store()
    if store is None:
        _api("DELETE", f"/v1/keys/{args.key_id}")
    elif not revoke_key(store, args.key_id):
        print(f"no key {args.key_id}")
        return 1
    print(f"revoked {args.key_id}")
    return 0
