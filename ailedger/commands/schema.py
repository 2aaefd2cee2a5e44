"""``ailedger schema``: print the JSON Schema of ai.call.v1 for producers in other languages."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the ai.call.v1 event")
    p.set_defaults(handler=run)


def run(args) -> int:
    from schemas.events import event_json_schema

    print(json.dumps(event_json_schema(), indent=2))
    return 0
