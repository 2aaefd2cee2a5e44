"""Versioned event models and the codec shared by every ailedger component."""

from schemas.alerts import Alert, AlertKind, Severity, stable_alert_id
from schemas.codec import DecodeError, dumps, encode_batch, loads, parse_event, unpack
from schemas.costed import CallCost, CostedCall
from schemas.dead_letter import DeadLetter
from schemas.events import EVENT_TYPE, TOKEN_BUCKETS, AICallEvent, event_json_schema
from schemas.upcasting import UnknownSchemaVersion, upcast

__all__ = [
    "AICallEvent",
    "Alert",
    "AlertKind",
    "CallCost",
    "CostedCall",
    "DeadLetter",
    "DecodeError",
    "EVENT_TYPE",
    "Severity",
    "TOKEN_BUCKETS",
    "UnknownSchemaVersion",
    "dumps",
    "encode_batch",
    "event_json_schema",
    "loads",
    "parse_event",
    "stable_alert_id",
    "unpack",
    "upcast",
]
