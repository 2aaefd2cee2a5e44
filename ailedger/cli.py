"""The ``ailedger`` command. Subcommands live in :mod:`ailedger.commands`, one module each,
each exposing ``register(subparsers)``; they are discovered at start."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ailedger import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ailedger", description="A ledger for AI/LLM usage and cost.")
    parser.add_argument("--version", action="version", version=f"ailedger {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ailedger import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ailedger.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a CLI prints the reason, not a traceback
        if getattr(args, "debug", False):
            raise
        print(f"ailedger {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
