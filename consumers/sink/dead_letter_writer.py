"""Writer for the dead-letter topic into ``dead_letters``, so bad input is queryable.

The topic keeps every dead letter (raw bytes included) for re-processing; the table is for
looking: what failed, where, why, how often.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from consumers.clickhouse.store import Store
from schemas.codec import DecodeError, loads



class DeadLettersWriter:
    table = "dead_letters"
    columns = ("failed_at", "stage", "reason", "raw_b64", "source_topic", "source_partition", "source_offset",
               "event_id", "dlq_partition", "dlq_offset")

    def to_rows(self, value: bytes, partition: int, offset: int):
        try:
            letter: Any = loads(value)
            row = [
                datetime.fromisoformat(letter["failed_at"]), letter["stage"], letter["reason"], letter["raw_b64"],
                letter.get("topic") or "", _int(letter.get("partition")), _int(letter.get("offset")),
                letter.get("event_id") or "", partition, offset,
            ]
        except (DecodeError, KeyError, TypeError, ValueError) as exc:
            # Not a dead letter we wrote: keep it visible rather than loop it back into the DLQ.
            from schemas.dead_letter import DeadLetter

            fallback = DeadLetter.of("dead-letter", f"unreadable dead letter: {exc}", value or b"")
            row = [fallback.failed_at, fallback.stage, fallback.reason, fallback.raw_b64, "", -1, -1, "",
                   partition, offset]
        return [row], []

    def prepare(self, store: Store, batches: list[list[Any]]) -> list[Any]:
        return [row for batch in batches for row in batch]

    def write(self, store: Store, rows: list[Any], dedup_token: str | None) -> None:
        store.insert(self.table, rows, self.columns, dedup_token=dedup_token)


def _int(value: Any) -> int:
    return -1 if value is None else int(value)
