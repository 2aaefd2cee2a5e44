"""``ailedger serve``: the ClickHouse sinks and the HTTP API, in one process that owns the store."""

from __future__ import annotations

import logging
import signal
import threading


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the ClickHouse sinks and the HTTP API (owns the embedded store)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger.settings import ApiSettings
    from consumers.serve import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ApiSettings()
    services = Services(settings).start()
    try:
        app = _api_app(settings, services)
    except ImportError:
        app = None
    try:
        if app is None:
            print("ailedger serve: sinks running (API module not installed)", flush=True)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            while not stop.wait(0.5):
                pass
        else:
            import uvicorn

            print(f"ailedger serve: API on {settings.api_url}", flush=True)
            uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="warning")
    finally:
        services.stop()
        print("ailedger serve: stopped, sinks flushed", flush=True)
    return 0


def _api_app(settings, services):
    from consumers.api.app import create_app  # noqa: F401 - ImportError means no API yet

    from consumers.api_wiring import build_api

    return build_api(settings, services)
