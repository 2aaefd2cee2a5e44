"""Settings, one validated class per deployable, all read from ``AILEDGER_*`` variables.

Every deployable shares :class:`CommonSettings` (where Kafka and ClickHouse are, topic names);
each adds its own knobs. Bad values fail at start with a message naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ailedger.gc_tuning import SERVICE_THRESHOLDS

DEFAULT_HOME = Path(".ailedger")


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AILEDGER_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="Local state: broker data, embedded ClickHouse, spool.")
    kafka_bootstrap: str = Field(default="127.0.0.1:19092", description="Kafka bootstrap servers, comma-separated.")
    topic_prefix: str = Field(default="", description="Prefix for every topic name (tests, multi-tenant clusters).")
    partitions: int = Field(default=4, ge=1, le=1024, description="Partitions for the event topics.")
    replication_factor: int = Field(default=1, ge=1, le=16)
    clickhouse_dsn: str = Field(
        default="",
        description="chdb:///path for the embedded engine (default: <home>/clickhouse) or http(s)://user:pass@host:8123.",
    )
    clickhouse_database: str = Field(default="ailedger", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8787, ge=1, le=65535)
    fetch_max_wait_ms: int = Field(
        default=100, ge=1, le=30_000,
        description="Longest a broker may hold a consumer's fetch while it has no new data (Faust's own "
                    "worker value is 1,500 ms, kafka-python's 500). Kafka answers as soon as data arrives; a "
                    "broker that holds the fetch anyway (Tansu) adds up to this much latency per hop.")
    compression: str | None = Field(
        default="lz4", pattern=r"^(gzip|snappy|lz4|zstd)$",
        description="Compression of the record batches this process produces (none: off). lz4 cut "
                    "noida-db's CPU per event about 2.5x in the pipeline benchmark (BENCHMARKS.md).")
    worker_stages: Literal["together", "apart"] = Field(
        default="together",
        description="together: every worker process runs pricing and live statistics. apart: each runs one "
                    "(AILEDGER_WORKER_ROLE), so each stage scales on its own and neither is held to one "
                    "process's core (BENCHMARKS.md session 20). Set it on every process of the deployment: "
                    "the lag view and alerts find the statistics' consumer group by it.")
    gc_thresholds: tuple[PositiveInt, ...] = Field(
        default=SERVICE_THRESHOLDS,
        description="Garbage-collector thresholds of the worker and serve processes, set once they have "
                    "started (after freezing what startup built; see ailedger.gc_tuning). JSON: three "
                    "numbers, e.g. [700,10,10] (Python's own), or [] to leave the collector alone.")

    @field_validator("compression", mode="before")
    @classmethod
    def _no_compression(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    @field_validator("gc_thresholds")
    @classmethod
    def _three_or_empty(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) not in (0, 3):
            raise ValueError("AILEDGER_GC_THRESHOLDS takes three numbers (generations 0, 1, 2) or []")
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("AILEDGER_KAFKA_BOOTSTRAP must name at least one host:port")
        return value.strip()

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]

    @property
    def resolved_clickhouse_dsn(self) -> str:
        if self.clickhouse_dsn:
            return self.clickhouse_dsn
        return f"chdb://{(self.home / 'clickhouse').resolve()}"

    @property
    def embedded_clickhouse(self) -> bool:
        return self.resolved_clickhouse_dsn.startswith("chdb://")

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class PricingSettings(CommonSettings):
    """What pricing needs: the worker, and ``ailedger serve`` for auto-repair (same variables)."""

    pricing_file: Path | None = Field(default=None, description="YAML/JSON price overrides.")
    credits_file: Path | None = Field(default=None, description="YAML/JSON credit rules.")


class WorkerSettings(PricingSettings):
    """The Faust stream-processing worker."""

    app_id: str = Field(default="ailedger-worker", pattern=r"^[A-Za-z0-9_.\-]+$")
    worker_role: Literal["pricing", "statistics"] | None = Field(
        default=None,
        description="With AILEDGER_WORKER_STAGES=apart, the stage this worker process runs: pricing (raw -> "
                    "costed; consumer group AILEDGER_APP_ID) or statistics (live statistics, daily usage, "
                    "alerts; consumer group and tables AILEDGER_APP_ID-statistics).")
    instance_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Static group membership (e.g. a StatefulSet pod name): a restarted worker takes its "
                    "partitions back at once instead of after a rebalance.")
    rebalance_timeout_s: float = Field(default=60.0, gt=0, le=600,
                                       description="How long a rebalance waits for members to rejoin.")
    session_timeout_s: float = Field(default=60.0, gt=0, le=600,
                                     description="A silent worker is considered dead after this long.")
    table_store: str = Field(default="rocksdb://", description="Faust table store: rocksdb:// or memory://")
    max_costed_batch: int = Field(default=500, ge=1, le=100_000, description="Calls per costed message.")
    max_costed_bytes: int = Field(
        default=900_000, ge=10_000, le=64 * 1024 * 1024,
        description="Most bytes of one costed message before compression: a message above it is split "
                    "(calls carry their prompt and response text). Keep it below the costed topic's "
                    "max.message.bytes and the producer's max request size (1 MB by default).")
    stats_take_messages: int = Field(default=500, ge=1, le=10_000,
                                     description="Costed messages the live statistics (and account spend) take together.")
    stats_take_seconds: float = Field(
        default=2.0, gt=0, le=60,
        description="... or what arrived within this time: each run writes a key once, so longer runs write "
                    "fewer changelog records (at 10,000 calls/s, 2 s instead of 0.25 cut the worker's CPU "
                    "by 11-32 %, BENCHMARKS.md session 18) and the live statistics and budget alerts come "
                    "up to this much later.")
    stats_publish_seconds: float = Field(default=1.0, gt=0, le=86_400,
                                         description="How often changed statistics and daily rows are published.")
    take_messages: int = Field(default=60, ge=1, le=10_000, description="Raw messages priced together.")
    take_seconds: float = Field(default=0.1, gt=0, le=10, description="... or what arrived within this time.")
    dedup_window: int = Field(default=200_000, ge=0, le=50_000_000,
                              description="Event ids remembered to drop a producer's duplicate (0: off).")
    fetch_partition_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024 * 1024, le=256 * 1024 * 1024,
        description="Most bytes one fetch returns per partition (Faust's default is 1 MiB: about five "
                    "costed messages of 500 calls); the sinks read 8 MiB too.")

    def check_role(self) -> None:
        """Raise ``ValueError`` unless the role fits the stages (a worker process checks it at start;
        other processes derive names from these settings without a role)."""
        if self.worker_stages == "apart" and self.worker_role is None:
            raise ValueError("AILEDGER_WORKER_STAGES=apart needs AILEDGER_WORKER_ROLE=pricing or statistics")
        if self.worker_stages == "together" and self.worker_role is not None:
            raise ValueError("AILEDGER_WORKER_ROLE is for AILEDGER_WORKER_STAGES=apart; together, a worker runs both")

    @property
    def runs_pricing(self) -> bool:
        return self.worker_role != "statistics"

    @property
    def runs_statistics(self) -> bool:
        return self.worker_role != "pricing"

    @property
    def own_app_id(self) -> str:
        """The Faust app id this process runs as: its consumer group and its tables' changelog prefix."""
        return statistics_app_id(self.app_id, self.worker_stages) if self.worker_role == "statistics" else self.app_id


def statistics_app_id(app_id: str, stages: str) -> str:
    """The app id (consumer group, changelog prefix) of the live statistics stage: the worker's own
    when the stages run together, ``<app_id>-statistics`` when apart. Pricing always runs as
    ``app_id``, so ``ailedger replay`` reads the live pricing's committed offsets there."""
    return app_id if stages == "together" else f"{app_id}-statistics"


class SinkSettings(CommonSettings):
    """The ClickHouse sink."""

    sink_group: str = Field(default="ailedger-sink", pattern=r"^[A-Za-z0-9_.\-]+$",
                            description="Consumer group of the sinks (prefixed with the topic prefix).")
    sink_instance_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Static group membership for this sink replica: a restarted sink resumes at once.")
    flush_rows: int = Field(default=20_000, ge=1, le=1_000_000, description="Flush at this many buffered rows.")
    flush_seconds: float = Field(default=0.5, gt=0, le=300, description="... or when the oldest row is this old.")
    flush_max_seconds: float = Field(
        default=0.5, gt=0, le=300,
        description="Under load the wait stretches up to this, so flushing takes at most a quarter of the "
                    "sink's time (never below flush_seconds; at the default, equal to it, it does not "
                    "stretch: 1.0 cost 0.5-0.9 s of p99 latency at 7,500 events/s, BENCHMARKS.md).")
    text_ttl_days: int = Field(default=90, ge=1, le=36500, description="TTL of prompt/response text in ai_calls.")
    dead_letter_fetch_max_wait_ms: int = Field(
        default=500, ge=1, le=30_000,
        description="fetch_max_wait_ms of the dead-letter sink alone: dead letters are rare, and an idle "
                    "consumer fetches about 1000/this times a second (at 100 ms it cost the serve process "
                    "~1.5 % of a core at rest, BENCHMARKS.md). A broker that holds fetches (Tansu) shows a "
                    "dead letter in ClickHouse up to this much later; Kafka answers as soon as one arrives.")


class ApiSettings(SinkSettings, PricingSettings):
    """The HTTP API (serves the dashboard; owns the embedded store next to the sink)."""

    admin_key: SecretStr | None = Field(default=None, description="Admin API key; unset = open on loopback only.")
    auto_repair_seconds: float = Field(default=60.0, ge=0, le=86_400,
                                       description="Price stored unpriced calls once a price is known (0: off).")
    auto_repair_days: int = Field(default=35, ge=1, le=3660, description="How far back auto-repair looks.")
    lag_check_seconds: float = Field(default=30.0, ge=0, le=3600,
                                     description="Check every stage's lag this often; raise pipeline_lag alerts (0: off).")
    lag_alert_messages: int = Field(default=1_000, ge=1, description="... when a stage stays this many messages behind")
    lag_alert_seconds: float = Field(default=120.0, gt=0, le=86_400, description="... this long without catching up")
    lag_alert_cooldown_seconds: float = Field(default=900.0, ge=0, le=86_400,
                                              description="At most one pipeline_lag alert per stage this often.")


class ProducerSettings(CommonSettings):
    """The SDK producer inside an instrumented service."""

    batch_events: int = Field(default=200, ge=1, le=10_000, description="Events packed into one message.")
    linger_ms: int = Field(default=50, ge=0, le=60_000)
    buffer_events: int = Field(default=100_000, ge=100, description="Bounded in-memory buffer; overflow spools.")
    spool_dir: Path | None = Field(default=None, description="Durable local spool (default <home>/spool).")
    source: str = Field(default="", description="Service name stamped on events that carry none.")
