"""Helpers for the ailedger package's tests."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient, NewTopic


def create_topic(bootstrap: str, name: str, partitions: int) -> str:
    """Create topic ``name`` on the test broker; returns the name."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name
