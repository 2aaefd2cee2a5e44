"""Anomaly and budget alerts: pure ``step`` functions (``anomaly``, ``budgets``) and their agents.

Importing this package does not start anything; the Faust agents live in ``agent`` and register
on the app when ``stream_processors.app`` imports them.
"""
