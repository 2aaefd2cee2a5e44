"""ClickHouse access: one store per process, versioned migrations, row mapping."""
