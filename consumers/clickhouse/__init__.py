"""ClickHouse access: one store per process, versioned migrations, row mapping."""
from consumers.clickhouse import api_tables, rollups  # noqa: E402,F401 - register their migrations before migrate()
