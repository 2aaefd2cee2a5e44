"""The durable spool: order, acknowledgement cursor, restart, rotation, torn lines, rejects."""

from __future__ import annotations

from pathlib import Path

from producers.spool import Spool
from tests.producers.conftest import rejected_letters


def events(start: int, n: int) -> list[dict]:
    return [{"event_id": f"id-{i}", "account_id": "a", "n": i} for i in range(start, start + n)]


def test_events_come_back_in_append_order_and_stay_until_acknowledged(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.append(events(0, 5))
    spool.append(events(5, 5))
    first = spool.read(4)
    assert [e["n"] for e in first.events] == [0, 1, 2, 3]
    assert [e["n"] for e in spool.read(4).events] == [0, 1, 2, 3]  # not acknowledged: read again
    spool.ack(first)
    assert spool.pending == 6
    rest = spool.read(100)
    assert [e["n"] for e in rest.events] == [4, 5, 6, 7, 8, 9]
    spool.ack(rest)
    assert spool.pending == 0
    assert spool.read(100) is None
    assert not list(tmp_path.glob("*.jsonl"))  # fully acknowledged segments are deleted


def test_a_restarted_spool_resumes_after_the_acknowledged_offset(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.append(events(0, 10))
    spool.ack(spool.read(3))
    spool.close()

    reopened = Spool(tmp_path)
    assert reopened.pending == 7
    reopened.append(events(10, 2))  # goes to a new segment, after the old one
    seen = []
    while (chunk := reopened.read(4)) is not None:
        seen += [e["n"] for e in chunk.events]
        reopened.ack(chunk)
    assert seen == list(range(3, 12))


def test_segments_rotate_and_are_read_across(tmp_path: Path):
    spool = Spool(tmp_path, segment_bytes=200)
    for i in range(20):
        spool.append(events(i, 1))
    assert len(list(tmp_path.glob("*.jsonl"))) > 1
    seen = []
    while (chunk := spool.read(50)) is not None:
        seen += [e["n"] for e in chunk.events]
        spool.ack(chunk)
    assert seen == list(range(20))


def test_a_torn_last_line_is_dead_lettered_not_resent(tmp_path: Path):
    spool = Spool(tmp_path)
    spool.append(events(0, 2))
    spool.close()
    segment = next(tmp_path.glob("*.jsonl"))
    with open(segment, "ab") as f:
        f.write(b'{"event_id": "torn", "acc')  # the process died mid-write

    reopened = Spool(tmp_path)
    chunk = reopened.read(10)
    assert [e["n"] for e in chunk.events] == [0, 1]
    assert chunk.lines == 3
    reopened.ack(chunk)
    assert reopened.pending == 0
    (letter,) = rejected_letters(tmp_path)
    assert letter["stage"] == "spool" and "unreadable" in letter["reason"]


def test_a_second_process_on_the_same_directory_gets_its_own_subdirectory(tmp_path: Path):
    first = Spool(tmp_path)
    second = Spool(tmp_path)
    assert first.directory == tmp_path
    assert second.directory == tmp_path / "w1"
    second.close()
    assert Spool(tmp_path).directory == tmp_path / "w1"  # free again: reusable (and its backlog with it)
