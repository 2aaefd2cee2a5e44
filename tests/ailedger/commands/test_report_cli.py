import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ailedger.cli import main
from tests.consumers.reports.seeding import call, insert_calls


@pytest.fixture
def cli_env(store, settings, monkeypatch):
    monkeypatch.setenv("AILEDGER_CLICKHOUSE_DSN", settings.clickhouse_dsn)
    monkeypatch.setenv("AILEDGER_CLICKHOUSE_DATABASE", settings.clickhouse_database)
    insert_calls(store, [call(datetime(2026, 3, 2, 10, tzinfo=timezone.utc), cost_total_usd=Decimal("0.25"))])
    return store


def test_report_prints_a_table_json_and_csv(cli_env, capsys):
    assert main(["report", "cost", "--from", "2026-03-01", "--to", "2026-03-03"]) == 0
    assert "$0.25" in capsys.readouterr().out
    assert main(["report", "cost", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["cost_usd"] == "0.25"
    assert main(["report", "cost", "--format", "csv", "--section", "by_model"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("openai,gpt-4o,1,")


def test_sql_reads_and_refuses_writes(cli_env, capsys):
    assert main(["sql", "SELECT count() AS n FROM ai_calls", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[1]]
    assert main(["sql", "DROP TABLE ai_calls"]) == 1
    assert "only" in capsys.readouterr().err


def test_when_another_process_owns_the_store_the_cli_asks_its_api(cli_env, settings, monkeypatch, capsys):
    from consumers.api.app import create_app
    from consumers.clickhouse.store import Store, StoreLocked
    from tests.consumers.api.server import free_port, running

    port = free_port()
    with running(create_app(settings, cli_env), port=port):
        monkeypatch.setenv("AILEDGER_API_HOST", "127.0.0.1")
        monkeypatch.setenv("AILEDGER_API_PORT", str(port))

        def locked(*args, **kwargs):
            raise StoreLocked("owned by the serve process")

        monkeypatch.setattr(Store, "from_settings", locked)
        assert main(["report", "cost", "--format", "csv", "--section", "by_model"]) == 0
        assert capsys.readouterr().out.splitlines()[1].startswith("openai,gpt-4o,1,")
        assert main(["sql", "SELECT count() AS n FROM ai_calls", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["rows"] == [[1]]
        assert main(["keys", "create", "--account", "acme"]) == 0
        key = capsys.readouterr().out.strip().splitlines()[1]
        monkeypatch.setenv("AILEDGER_API_KEY", key)
        assert main(["report", "cost", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["rows"][0]["calls"] == 1
        assert main(["sql", "SELECT 1"]) == 1  # an account key is not an admin
        assert "403" in capsys.readouterr().err
