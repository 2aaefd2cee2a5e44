"""Subcommands of ``ailedger``: each module defines ``register(subparsers)`` and sets
``handler=`` on its parser via ``set_defaults``."""
