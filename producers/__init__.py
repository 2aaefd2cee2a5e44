"""The ailedger producer SDK: track model calls from Python services, or ingest over HTTP.

See ``docs/sdk.md``. Public API::

    from producers import Ledger, AsyncLedger, LedgerSettings, ledger_context, extract_usage
"""

from producers.adapters import StreamUsage, Usage, extract_usage
from producers.calls import TrackedCall
from producers.client import AsyncLedger, Ledger
from producers.config import LedgerSettings, kafka_producer_config
from producers.context import current_fields, ledger_context
from producers.model_choice import choose_model

__all__ = [
    "AsyncLedger",
    "Ledger",
    "LedgerSettings",
    "StreamUsage",
    "TrackedCall",
    "Usage",
    "choose_model",
    "current_fields",
    "extract_usage",
    "kafka_producer_config",
    "ledger_context",
]
