"""Labelled runs in a results file: a new run replaces the one with its label, others stay."""

import json

from benchmarks.results_file import store_run


def test_a_run_replaces_the_run_with_its_label_and_keeps_the_others(tmp_path):
    path = tmp_path / "results.json"
    store_run(path, "benchmarks/b.py", {"label": "before", "x": 1})
    store_run(path, "benchmarks/b.py", {"label": "after", "x": 2})
    store_run(path, "benchmarks/b.py", {"label": "before", "x": 3})
    assert json.loads(path.read_text()) == {"benchmark": "benchmarks/b.py",
                                            "runs": [{"label": "after", "x": 2}, {"label": "before", "x": 3}]}
