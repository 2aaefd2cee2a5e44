"""The garbage collector of a long-running service (the Faust worker, ``ailedger serve``).

CPython's cyclic collector runs a full collection every ~70,000 net container allocations
(thresholds 700, 10, 10), and a full collection visits every tracked object: the modules, the
price catalog, Faust and aiokafka, ~130,000 objects in the worker after startup. Parsing and
pricing batches allocates that many in a few milliseconds, and the objects die by reference
counting, not by the collector. Measured in the worker during 100,000-event floods: 17 full
collections, each 60-140 ms of CPU and each finding 0 objects, ~1.9 s of ~10 s of the worker's
CPU (BENCHMARKS.md, session 7).

:func:`tune` freezes what startup built (``gc.freeze``: the collector no longer visits it) and
raises the thresholds, so a young cycle is still found by the frequent young collections and a
full collection is rare. Library code never calls it: the SDK runs in its caller's process and
leaves the caller's collector alone.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

#: Thresholds set by :func:`tune` unless the settings say otherwise (``AILEDGER_GC_THRESHOLDS``).
SERVICE_THRESHOLDS = (10_000, 50, 100)


def tune(thresholds: tuple[int, ...] = SERVICE_THRESHOLDS) -> None:
    """Collect once, freeze the survivors out of the collector's sight, set ``thresholds``.

    Call it when the service has started (its modules, catalog and clients exist). Empty
    thresholds leave the collector as Python set it."""
    if not thresholds:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    log.info("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), thresholds)
