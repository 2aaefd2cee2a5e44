import gc

import pytest
from pydantic import ValidationError

from ailedger import gc_tuning
from ailedger.settings import WorkerSettings


@pytest.fixture
def collector():
    """Put the collector back as it was: the test process must not keep a tuned collector."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_freezes_what_exists_and_sets_the_thresholds(collector):
    survivor = [object() for _ in range(10)]
    gc_tuning.tune((5_000, 20, 50))
    assert gc.get_threshold() == (5_000, 20, 50)
    assert gc.get_freeze_count() >= 1
    assert not any(o is survivor for o in gc.get_objects())  # frozen: no collection visits it
    cycle = [None]
    cycle[0] = cycle
    assert any(o is cycle for o in gc.get_objects())  # made after the freeze: still collected
    del cycle
    assert gc.collect() >= 1


def test_empty_thresholds_leave_the_collector_alone(collector):
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc_tuning.tune(())
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_settings_take_three_thresholds_or_an_empty_list(monkeypatch):
    assert WorkerSettings().gc_thresholds == gc_tuning.SERVICE_THRESHOLDS
    monkeypatch.setenv("AILEDGER_GC_THRESHOLDS", "[]")
    assert WorkerSettings().gc_thresholds == ()
    monkeypatch.setenv("AILEDGER_GC_THRESHOLDS", "[700,10,10]")
    assert WorkerSettings().gc_thresholds == (700, 10, 10)
    for bad in ("[700,10]", "[0,10,10]", "[-1,10,10]"):
        monkeypatch.setenv("AILEDGER_GC_THRESHOLDS", bad)
        with pytest.raises(ValidationError, match="gc_thresholds"):
            WorkerSettings()
