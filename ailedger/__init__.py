"""ailedger: an event-sourced ledger for AI/LLM usage and cost."""

__version__ = "0.1.0"
