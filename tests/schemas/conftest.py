from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def valid_event() -> dict:
    return {
        "type": "ai.call.v1",
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-11-20T10:00:00Z",
        "account_id": "acme",
        "user_id": "u1",
        "prompt_type": "extract_page_metadata",
        "operation": "extract",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 1000,
        "cache_read_tokens": 200,
        "output_tokens": 300,
        "reasoning_tokens": 0,
        "latency_ms": 812.5,
        "metadata": {"page": 3},
    }
