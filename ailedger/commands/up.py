"""``ailedger up``: run the whole local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
import threading


def register(sub) -> None:
    p = sub.add_parser("up", help="start broker, worker, sink and API on 127.0.0.1 (Ctrl-C stops them)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ailedger.settings import CommonSettings
    from ailedger.stack import LocalStack

    settings = CommonSettings()
    stack = LocalStack(settings).start()
    print(f"\nailedger is up. Publish to kafka://{settings.kafka_bootstrap} topic {settings.topic('ai.calls.v1')}"
          f"\nor POST {settings.api_url}/v1/events; dashboard at {settings.api_url}/ . Ctrl-C stops.", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C or a supervisor's stop: the same clean stop
        signal.signal(signum, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            for name, proc in (("worker", stack.worker), ("serve", stack.server)):
                if proc is not None and proc.poll() is not None:
                    print(f"{name} exited with code {proc.returncode}; stopping", flush=True)
                    stopped.set()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the children
        print("\nstopping ...", flush=True)
        stack.stop()
    return 0
