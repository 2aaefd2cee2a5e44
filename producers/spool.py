"""The durable local spool: append-only segment files of events waiting for the broker.

Layout of a spool directory::

    000000000001.jsonl         one event (JSON) per line, in append order
    000000000001.jsonl.acked   byte offset up to which the broker has acknowledged
    rejects.jsonl              dead letters (``ai.dead-letter.v1``): invalid events, never re-sent
    .lock                      held by the one process that owns this directory

Events are re-sent from the oldest acknowledged offset, in order; a segment is deleted once
acknowledged to its end. A line without its newline (a crash mid-write) is dead-lettered.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import orjson

from schemas.codec import dumps
from schemas.dead_letter import DeadLetter

SUFFIX = ".jsonl"
ACKED = ".acked"
READ_LIMIT = 16 * 1024 * 1024


@dataclass
class SpoolChunk:
    """Events read from one segment between two byte offsets."""

    segment: int
    start: int
    end: int
    lines: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


def _encode(event: dict[str, Any]) -> bytes:
    return dumps(event) + b"\n"


def lock_directory(base: Path, max_workers: int = 64) -> tuple[Path, Any]:
    """Lock ``base`` (or, if another live process holds it, ``base/w1``, ``base/w2``, ...)."""
    for n in range(max_workers + 1):
        directory = base if n == 0 else base / f"w{n}"
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(directory / ".lock", "a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return directory, handle
    raise OSError(f"all {max_workers + 1} spool directories under {base} are locked")


class Spool:
    """Thread-safe append-only spool with an acknowledged-offset cursor per segment."""

    def __init__(self, base: Path, segment_bytes: int = 64 * 1024 * 1024, fsync: bool = False) -> None:
        self.directory, self._lock_handle = lock_directory(Path(base))
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._lock = threading.Lock()
        self._sizes: dict[int, int] = {}
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path.stem.isdigit():
                self._sizes[int(path.stem)] = path.stat().st_size
        self._cursors = {seq: self._load_cursor(seq) for seq in self._sizes}
        self._writer: Any = None
        self._writer_seq = max(self._sizes, default=0)
        self._pending = sum(self._count_lines(seq) for seq in self._sizes)
        self._rejects = 0

    # -- paths and cursors -------------------------------------------------------------------
    def _path(self, seq: int) -> Path:
        return self.directory / f"{seq:012d}{SUFFIX}"

    def _load_cursor(self, seq: int) -> int:
        try:
            return int((self.directory / f"{seq:012d}{SUFFIX}{ACKED}").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _save_cursor(self, seq: int, offset: int) -> None:
        path = self.directory / f"{seq:012d}{SUFFIX}{ACKED}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, path)

    def _count_lines(self, seq: int) -> int:
        with open(self._path(seq), "rb") as f:
            f.seek(self._cursors[seq])
            data = f.read()
        return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)

    # -- writing -------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Events spooled and not yet acknowledged by the broker."""
        return self._pending

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Append events durably (flushed to the OS; fsynced if configured). Returns the count."""
        lines = [_encode(e) for e in events]
        if not lines:
            return 0
        data = b"".join(lines)
        with self._lock:
            if self._writer is None or self._sizes[self._writer_seq] >= self.segment_bytes:
                self._open_writer()
            self._writer.write(data)
            self._writer.flush()
            if self.fsync:
                os.fsync(self._writer.fileno())
            self._sizes[self._writer_seq] += len(data)
            self._pending += len(lines)
        return len(lines)

    def _open_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer_seq += 1
        self._writer = open(self._path(self._writer_seq), "ab")
        self._sizes[self._writer_seq] = 0
        self._cursors[self._writer_seq] = 0

    # -- reading and acknowledging ---------------------------------------------------------------
    def read(self, max_events: int) -> SpoolChunk | None:
        """The next unacknowledged events (at most ``max_events``, from one segment), or None."""
        with self._lock:
            while self._sizes:
                seq = min(self._sizes)
                start, size = self._cursors[seq], self._sizes[seq]
                if start < size:
                    break
                if seq == self._writer_seq and self._writer is not None:
                    return None
                self._drop(seq)
            else:
                return None
            closed = not (seq == self._writer_seq and self._writer is not None)
        with open(self._path(seq), "rb") as f:
            f.seek(start)
            data = f.read(min(size - start, READ_LIMIT))
            if b"\n" not in data:  # one line longer than READ_LIMIT
                data += f.read(size - start - len(data))
        chunk = SpoolChunk(seq, start, start)
        offset = 0
        while chunk.lines < max_events and offset < len(data):
            newline = data.find(b"\n", offset)
            if newline < 0:
                if not closed or start + len(data) < size:
                    break
                newline = len(data)  # a torn last line of a closed segment
            line = data[offset:newline]
            offset = newline + 1
            chunk.lines += 1
            try:
                event = orjson.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not a JSON object")
                chunk.events.append(event)
            except ValueError as exc:
                self.reject("spool", f"unreadable spool line: {exc}", line)
        chunk.end = start + min(offset, len(data))
        return chunk if chunk.lines else None

    def ack(self, chunk: SpoolChunk) -> None:
        """The broker has every event of ``chunk``: move the cursor past it."""
        with self._lock:
            if self._cursors.get(chunk.segment) != chunk.start:
                return
            self._cursors[chunk.segment] = chunk.end
            self._pending = max(self._pending - chunk.lines, 0)
            if chunk.end >= self._sizes[chunk.segment]:
                self._drop(chunk.segment)
            else:
                self._save_cursor(chunk.segment, chunk.end)

    def _drop(self, seq: int) -> None:
        """Delete a fully acknowledged segment (closing it first if it is the writer's)."""
        if seq == self._writer_seq and self._writer is not None:
            self._writer.close()
            self._writer = None
        for path in (self._path(seq), self.directory / f"{seq:012d}{SUFFIX}{ACKED}"):
            path.unlink(missing_ok=True)
        self._sizes.pop(seq, None)
        self._cursors.pop(seq, None)

    # -- rejects -------------------------------------------------------------------------------
    @property
    def reject_path(self) -> Path:
        return self.directory / "rejects.jsonl"

    @property
    def rejected(self) -> int:
        """Dead letters written by this instance."""
        return self._rejects

    def reject(self, stage: str, reason: str, raw: bytes | str, event_id: str | None = None) -> None:
        letter = DeadLetter.of(stage, reason, raw, event_id=event_id)
        line = letter.model_dump_json().encode() + b"\n"
        with self._lock:
            with open(self.reject_path, "ab") as f:
                f.write(line)
            self._rejects += 1

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self._lock_handle is not None:
                self._lock_handle.close()
                self._lock_handle = None
