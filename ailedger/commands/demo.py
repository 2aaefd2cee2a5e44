"""``ailedger demo``: bring the stack up, publish realistic traffic, wait until it is queryable,
print the cost report and stop."""

from __future__ import annotations

import time


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on realistic traffic and print a cost report")
    p.add_argument("--events", type=int, default=20_000, help="how many calls to publish")
    p.add_argument("--days", type=int, default=7, help="spread the calls over this many past days")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the calls to be queryable")
    p.set_defaults(handler=run)


def run(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ailedger.demo_traffic import generate
    from ailedger import gc_tuning
    from ailedger.publishing import BatchPublisher
    from ailedger.settings import ApiSettings
    from ailedger.stack import LocalStack
    from consumers.serve import Services

    console = Console()
    settings = ApiSettings()
    if not settings.sink_instance_id:  # static membership: a demo killed mid-way restarts at once
        settings = settings.model_copy(update={"sink_instance_id": "local-demo-sink"})
    _write_demo_prices(settings)
    console.rule("[bold]ailedger demo")
    stack = LocalStack(settings, serve=False).start(say=console.print)
    services = None
    try:
        services = Services(settings).start()
        gc_tuning.tune(settings.gc_thresholds)  # this process is the serve process here
        console.print(f"sink        ClickHouse {settings.resolved_clickhouse_dsn} database {settings.clickhouse_database}")
        events = list(generate(args.events, days=args.days, seed=time.time_ns()))
        ids = [e.event_id for e in events]
        publisher = BatchPublisher(settings)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        started = time.monotonic()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("publishing", total=len(events))
            for i, event in enumerate(events, 1):
                publisher.add(event)
                if i % 1000 == 0:
                    progress.update(task, completed=i)
            publisher.flush()
            publisher.close()
            progress.update(task, completed=len(events))
            stored = progress.add_task("queryable ", total=len(events))
            deadline = time.monotonic() + args.timeout
            count = 0
            while count < len(events):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {count} of {len(events)} calls queryable after {args.timeout:.0f}s; "
                                       f"see {stack.log_dir}")
                time.sleep(0.25)
                count = _stored(services.store, ids)
                progress.update(stored, completed=count)
        elapsed = time.monotonic() - started
        console.print(f"{len(events):,} calls published and queryable in {elapsed:.1f}s "
                      f"({len(events) / elapsed:,.0f} calls/s end to end)\n")
        _print_report(services.store, console)
    finally:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the children
        if services is not None:
            services.stop()
        stack.stop(say=lambda *_: None)
    return 0


def _stored(store, ids) -> int:
    _, rows = store.rows("SELECT uniqExact(event_id) FROM ai_calls WHERE event_id IN {ids:Array(UUID)}", {"ids": ids})
    return int(rows[0][0])


def _print_report(store, console) -> None:
    from consumers.reports import ReportParams, render_table, run_report

    import shutil

    width = max(shutil.get_terminal_size((160, 40)).columns, 100)
    console.file.write(render_table(run_report(store, "cost", ReportParams()), width=width) + "\n")


def _write_demo_prices(settings) -> None:
    """Self-hosted models have no public price: the demo prices llama3 by an override file."""
    import os

    path = settings.home / "demo-prices.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            "# Price overrides for the demo: self-hosted Ollama models, priced at an internal GPU rate.\n"
            "- provider: ollama\n  model: llama3*\n  effective_from: 2024-01-01T00:00:00Z\n"
            "  input: 0.10\n  output: 0.20\n"
        )
    os.environ.setdefault("AILEDGER_PRICING_FILE", str(path.resolve()))
