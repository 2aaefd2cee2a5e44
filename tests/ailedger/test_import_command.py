"""``ailedger import``: historic logs (current and legacy shapes, JSONL and CSV) go through the
live path; importing the same file twice leaves the same totals."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal

import pytest

from ailedger.cli import main
from ailedger.importing import parse_file
from ailedger.settings import ApiSettings
from consumers.serve import Services

pytestmark = pytest.mark.integration

LEGACY = [  # the design documents' usage-log rows: no event id, prompt/completion tokens
    {"type": "ai.call.v0", "created_at": f"2026-10-0{d}T10:00:00Z", "user": "alice", "section": "chat",
     "prompt_tokens": 1000 * d, "completion_tokens": 100 * d, "response_time_ms": 900, "success": True,
     "model_name": "gpt-4o-mini", "provider": "openai", "metadata": {"row": d}} for d in range(1, 6)
]


def write_files(tmp_path):
    jsonl = tmp_path / "history.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in LEGACY) + "\n{broken json\n")
    csv = tmp_path / "history.csv"
    csv.write_text("event_id,occurred_at,account_id,provider,model,input_tokens,output_tokens,success\n"
                   f"{uuid.uuid4()},2026-10-10T08:00:00Z,acme,openai,gpt-4o,2000,300,true\n"
                   f"{uuid.uuid4()},2026-10-11T08:00:00Z,acme,openai,gpt-4o,-5,300,true\n")
    return jsonl, csv


def test_files_are_parsed_with_reasons_for_bad_rows(tmp_path):
    jsonl, csv = write_files(tmp_path)
    report = parse_file(jsonl)
    assert len(report.accepted) == 5 and [n for n, _ in report.rejected] == [6]
    assert {e.event_id for e in report.accepted} == {e.event_id for e in parse_file(jsonl).accepted}
    report = parse_file(csv)
    assert len(report.accepted) == 1 and "input_tokens" in report.rejected[0][1]


def test_importing_twice_leaves_the_same_totals(settings, topics, store, worker_factory, monkeypatch, tmp_path):
    for key, value in {"AILEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                       "AILEDGER_TOPIC_PREFIX": settings.topic_prefix}.items():
        monkeypatch.setenv(key, value)
    jsonl, csv = write_files(tmp_path)
    worker_factory()
    services = Services(ApiSettings(**settings.model_dump()), store=store).start()
    try:
        totals = []
        for _ in range(2):
            assert main(["import", str(jsonl)]) == 0
            assert main(["import", str(csv)]) == 0
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                row = store.rows("SELECT count(), sum(cost_total_usd) FROM ai_calls FINAL")[1][0]
                if row[0] == 6:
                    break
                time.sleep(0.25)
            time.sleep(1.0)
            totals.append(store.rows("SELECT count(), sum(cost_total_usd) FROM ai_calls FINAL")[1][0])
            totals.append(store.rows("SELECT sum(calls) FROM ai_calls_daily")[1][0])
    finally:
        services.stop()
    assert totals[0][0] == 6 and totals[0][1] > Decimal(0)
    assert totals[0] == totals[2] and totals[1] == totals[3] == (6,)
