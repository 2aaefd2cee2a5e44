"""Kafka -> ClickHouse sinks: buffer per partition, insert, then commit offsets."""

from consumers.sink.loop import SinkStats, TopicSink, Writer

__all__ = ["SinkStats", "TopicSink", "Writer"]
