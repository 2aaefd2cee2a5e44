"""Live per-prompt-type statistics, latest-call snapshots and daily usage.

Pure modules (``sketch``, ``totals``, ``prompt_stats``, ``snapshot``, ``daily``, ``guard``,
``step``) and the Faust agent (``agent``, registered when ``stream_processors.app`` imports it).
Importing this package does not create the Faust app.
"""
