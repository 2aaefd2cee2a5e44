"""The results files of the benchmarks that keep labelled runs side by side ("before", "after")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def store_run(path: Path, benchmark: str, run: dict[str, Any]) -> None:
    """Add ``run`` to the results file at ``path``, replacing a run with the same ``label``."""
    runs = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    runs = [r for r in runs if r.get("label") != run.get("label")] + [run]
    path.write_text(json.dumps({"benchmark": benchmark, "runs": runs}, indent=2) + "\n")
