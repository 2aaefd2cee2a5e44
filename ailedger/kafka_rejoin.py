"""Keep a group join that finished between two ``poll()`` calls (a kafka-python 3.0 client fix).

Why: kafka-python 3.0 runs a rebalance (JoinGroup, then SyncGroup) as a task on its IO thread.
``poll(timeout_ms=N)`` waits for that task at most N ms and returns; the next ``poll`` is meant to
wait for the same task again. But ``BaseCoordinator.join_group_async`` (3.0.12) starts a *new*
JoinGroup whenever the stored task ``is_done``: a join whose SyncGroup answer arrived after one
``poll`` stopped waiting and before the next began is thrown away, and the member at once asks
for another rebalance. Every rebalance that outlasts one ``poll`` (the sinks poll every 100 ms, a
join takes at least a heartbeat interval) is followed by a needless second one, started by the
member that just became leader while the other members are still being answered.

What that does to a sink joining a busy group (``tests/consumers/test_scale_out.py``), as logged
at DEBUG on noida-db 0.2.3 (``c1`` the first sink, ``c2`` the joining one)::

    c2 JoinGroup sent (member c2...)                   # pending: the group is rebalancing
    c1 heartbeat -> REBALANCE_IN_PROGRESS; c1 JoinGroup
    c1 JoinGroup response: generation 3, leader c1, members [c2, c1]
    c1 SyncGroup (c1: [0, 1], c2: [2, 3]) -> ok       # 4 ms after poll() stopped waiting
    c1 JoinGroup again (this module's bug)             # generation 4 starts
    ... c2 never receives its generation-3 JoinGroup response; generation 4 waits for c2

noida-db never answers the follower whose generation was superseded that quickly, so ``c2``
waits on a JoinGroup that never returns and generation 4 waits for ``c2`` for the whole
rebalance timeout (kafka-python's default ``max_poll_interval_ms``, 300 s): "the second sink got
no partition". Apache Kafka answers every member of generation 3, so there the bug costs a
spurious extra rebalance per join (all members revoke and rejoin again) instead of a stall.

What: :func:`install` wraps ``BaseCoordinator.join_group_async`` so that a join task still held
from an earlier ``poll`` is awaited (within this ``poll``'s timeout) and, once it has succeeded,
its assignment is applied exactly as kafka-python applies one it waited for (state STABLE,
heartbeats on, ``_on_join_complete_async``). Everything else (no task, a failed task, retries)
runs kafka-python's own code unchanged. If kafka-python's coordinator has another shape (another
version), nothing is patched and a warning says so.
"""

from __future__ import annotations

import functools
import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_original = None

#: Join errors after which kafka-python itself drops the task and joins again at once.
_REJOIN_ERRORS = ("UnknownMemberIdError", "RebalanceInProgressError", "IllegalGenerationError",
                  "MemberIdRequiredError")


def install() -> bool:
    """Patch kafka-python's group coordinator, once per process. True when the fix is in place."""
    global _original
    with _lock:
        if _original is not None:
            return True
        try:
            from kafka import errors as Errors
            from kafka.coordinator.base import BaseCoordinator
            from kafka.structs import MemberState
            from kafka.util import Timer
        except ImportError:  # pragma: no cover - kafka-python is a dependency
            return False
        original = getattr(BaseCoordinator, "join_group_async", None)
        probe = BaseCoordinator.__dict__.get("__init__")
        if original is None or probe is None or "_join_task" not in probe.__code__.co_names:
            log.warning("kafka-python's group coordinator has changed; the rejoin fix is not installed")
            return False
        rejoin_errors = tuple(getattr(Errors, name) for name in _REJOIN_ERRORS if hasattr(Errors, name))

        @functools.wraps(original)
        async def join_group_async(self, timeout_ms=None):
            task = self._join_task
            timer = Timer(timeout_ms)
            if task is not None and self.rejoining:
                try:
                    assignment = await self._manager.wait_for(task, timer.timeout_ms)
                except Errors.KafkaTimeoutError:
                    return False  # still in flight: the next poll waits for the same task
                except (*rejoin_errors, Errors.RetriableError):
                    self._join_task = None  # side effects applied by kafka-python; join again
                except Errors.KafkaError:
                    self._join_task = None
                    raise
                else:
                    self._join_task = None
                    generation = self._generation
                    if not generation.is_lost():  # lost: reset meanwhile, the assignment is stale; join again
                        with self._lock:
                            self.rejoining = False
                            self.rejoin_needed = False
                            self.state = MemberState.STABLE
                            self._enable_heartbeat()
                        await self._on_join_complete_async(generation.generation_id, generation.member_id,
                                                           generation.protocol, assignment)
                        return True
            return await original(self, timer.timeout_ms)

        join_group_async.__ailedger_original__ = original
        BaseCoordinator.join_group_async = join_group_async
        _original = original
        return True


def uninstall() -> None:
    """Restore kafka-python's own method (tests)."""
    global _original
    with _lock:
        if _original is None:
            return
        from kafka.coordinator.base import BaseCoordinator

        BaseCoordinator.join_group_async = _original
        _original = None


def installed() -> bool:
    return _original is not None
