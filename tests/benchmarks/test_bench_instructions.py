"""The instruction count benchmark prepares the worker's inputs the same way every time and runs
each stage of the pure path on them (the counting itself is valgrind's)."""

import orjson
import pytest

from benchmarks import bench_worker_stages
from benchmarks.bench_instructions import STAGES, prepare, run_stage


def _without_times(raws):
    return [[{k: v for k, v in item.items() if k != "occurred_at"} for item in orjson.loads(raw)["items"]]
            for raw in raws]


def test_the_stages_are_the_worker_stage_benchmarks():
    assert STAGES == bench_worker_stages.STAGES


def test_inputs_are_the_same_in_every_process_and_every_stage_runs_on_them():
    first, second = prepare(400), prepare(400)
    # the baseline process prepares what each stage process does (times are live: now, less a bit)
    assert _without_times(first["raws"]) == _without_times(second["raws"])
    assert sum(map(len, first["validated"])) == 400
    assert sum(map(len, first["calls"].values())) == 400
    for stage in STAGES:
        run_stage(stage, first)
    with pytest.raises(SystemExit, match="unknown stage"):
        run_stage("transmogrify", first)
