"""A real webhook receiver on 127.0.0.1 that refuses its first N requests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest


class Receiver:
    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.requests = 0
        self.accepted: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.requests += 1
                    refuse = receiver.requests <= receiver.fail_first
                    if not refuse:
                        receiver.accepted.append(orjson.loads(body))
                        receiver.headers.append(dict(self.headers))
                self.send_response(503 if refuse else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted_ids(self) -> list[str]:
        with self.lock:
            return [a["alert_id"] for a in self.accepted]

    def recover(self) -> None:
        with self.lock:
            self.fail_first = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    started = []

    def start(fail_first: int = 0) -> Receiver:
        receiver = Receiver(fail_first)
        started.append(receiver)
        return receiver

    yield start
    for r in started:
        r.close()
