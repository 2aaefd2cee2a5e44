"""``ailedger serve``: the ClickHouse sinks and the HTTP API, in one process that owns the store."""

from __future__ import annotations

import logging
import threading


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the ClickHouse sinks and the HTTP API (owns the embedded store)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger import gc_tuning
    from ailedger.settings import ApiSettings
    from consumers.serve import Services

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ApiSettings()
    services = Services(settings).start()
    try:
        app = _api_app(settings, services)
    except BaseException:
        services.stop()
        raise
    gc_tuning.tune(settings.gc_thresholds)
    try:
        import uvicorn

        config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_level="warning")
        server = uvicorn.Server(config)
        _announce_when_started(server, settings)
        server.run()
    finally:
        services.stop()
        print("ailedger serve: stopped, sinks flushed", flush=True)
    return 0


def _announce_when_started(server, settings) -> None:
    """Print the readiness line once uvicorn listens (``ailedger up`` waits for it)."""

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(f"ailedger serve: API on {settings.api_url}", flush=True)

    threading.Thread(target=announce, daemon=True).start()


def _api_app(settings, services):
    from consumers.api_wiring import build_api

    return build_api(settings, services)
