"""Names of the live-statistics tables and their Faust changelog topics (for pre-creation).

Faust declares a table's changelog topic ``<app id>-<table>-changelog`` itself at start, with the
table's partition count and ``cleanup.policy=compact``. A broker that auto-creates topics (noida-db
does, with one partition) can get there first if anything touches the name early, and Faust then
crash-loops with ``PartitionsMismatch``; ``ailedger topics create`` can call
``changelog_topic_specs`` to create them up front with the right counts.
"""

from __future__ import annotations

from ailedger.settings import CommonSettings
from ailedger.topics import TopicSpec

PROMPT_TYPES = "prompt-types"  # statistics + anomaly averages + prompt-type budget spend, per prompt type
SNAPSHOTS = "prompt-snapshots"  # latest call per prompt type
DAILY = "daily-usage"  # per (day, account, user, prompt type)
SPEND = "spend"  # monthly spend per account and per (account, user)

TABLES = (PROMPT_TYPES, SNAPSHOTS, DAILY, SPEND)


def changelog_topic(app_id: str, table: str) -> str:
    return f"{app_id}-{table}-changelog"


def changelog_topic_specs(settings: CommonSettings, app_id: str | None = None) -> list[TopicSpec]:
    """Every changelog topic of these tables, with ``settings.partitions`` partitions (the costed and
    spend topics' count, which the tables are co-partitioned with)."""
    app_id = app_id or getattr(settings, "app_id", "ailedger-worker")
    return [TopicSpec(changelog_topic(app_id, name), settings.partitions, {"cleanup.policy": "compact"})
            for name in TABLES]
