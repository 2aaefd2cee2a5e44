"""Topic names, partition counts and configs; idempotent creation."""

from __future__ import annotations

from dataclasses import dataclass, field

from ailedger.settings import CommonSettings

RAW = "ai.calls.v1"
COSTED = "ai.calls.costed.v1"
ALERTS = "ai.alerts.v1"
DLQ = "ai.dlq.v1"
PRICING = "ai.pricing.v1"
PROMPT_CONFIGS = "ai.prompt-configs.v1"
RATINGS = "ai.ratings.v1"
PROMPT_STATS = "ai.prompt-stats.v1"
DAILY_USAGE = "ai.daily-usage.v1"
BUDGETS = "ai.budgets.v1"
SPEND = "ai.spend.v1"

_WEEK_MS = str(7 * 24 * 3600 * 1000)
_MONTH_MS = str(30 * 24 * 3600 * 1000)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def topic_specs(settings: CommonSettings) -> list[TopicSpec]:
    """Every topic ailedger uses, with the partition counts and configs it needs.

    The raw topic keeps events for the longest: it is the source of truth for replay. Event time
    lives in the payload; the broker stamps its own log-append time so that backdated events are
    not deleted before they are processed.
    """
    p = settings.partitions
    events = {"retention.ms": "-1", "message.timestamp.type": "LogAppendTime"}
    compacted = {"cleanup.policy": "compact"}
    return [
        TopicSpec(settings.topic(RAW), p, events),
        TopicSpec(settings.topic(COSTED), p, {"retention.ms": _MONTH_MS}),
        TopicSpec(settings.topic(ALERTS), 1, {"retention.ms": _MONTH_MS}),
        TopicSpec(settings.topic(DLQ), 1, {"retention.ms": _MONTH_MS}),
        TopicSpec(settings.topic(PRICING), 1, compacted),
        TopicSpec(settings.topic(PROMPT_CONFIGS), p, compacted),
        TopicSpec(settings.topic(RATINGS), p, events),
        # live statistics and alerts (stream_processors.stats / .alerts): views for the API,
        # budgets set through the API, and the account-partitioned spend repartition topic
        TopicSpec(settings.topic(PROMPT_STATS), 1, compacted),
        TopicSpec(settings.topic(DAILY_USAGE), 1, compacted),
        TopicSpec(settings.topic(BUDGETS), 1, compacted),
        TopicSpec(settings.topic(SPEND), p, {"retention.ms": _WEEK_MS}),
    ]


def create_topics(settings: CommonSettings, extra: list[TopicSpec] | None = None) -> list[str]:
    """Create missing topics; existing ones are left as they are. Returns the names created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    specs = topic_specs(settings) + list(extra or [])
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="ailedger-admin")
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            topic = NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=spec.configs,
            )
            try:
                admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
