"""ClickHouse access: one store per process, versioned migrations, row mapping."""
from consumers.clickhouse import api_tables, rollups  # noqa: E402,F401 - register their migrations before migrate()
from consumers.alerts import store as _alerts_store  # noqa: E402,F401 - registers migration 20 (ai_alerts)
