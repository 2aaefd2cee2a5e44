"""Prompt-type configs seen from the worker: auto-creation, and the views the agents consult.

A prompt type gets a config the first time the worker sees it: ``AutoCreator.check`` returns an
``auto_created`` :class:`PromptConfig` (defaults; the description is the call's ``operation``)
to publish on ``ai.prompt-configs.v1`` - unless the topic already has one (set through the API
before the first call, or created before a restart). It answers only once the config view has
read the whole topic, so it never overwrites a config it has not seen yet; prompt types seen
before that wait in ``pending`` and are settled by ``drain``. Each prompt type is checked once
per process, so a crash between the first call and the publish is repaired on the next call.

:class:`WorkerViews` holds the two compacted-topic views the worker's agents read: prompt configs
and budgets (``AILEDGER_BUDGETS_FILE`` plus the budgets set through the API).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

from ailedger.settings import CommonSettings
from schemas.prompt_config import Budget, PromptConfig


class ConfigSource(Protocol):
    @property
    def ready(self) -> bool: ...

    def known(self, prompt_type: str) -> bool: ...

    def put_local(self, key: str, value: PromptConfig | None) -> None: ...


def auto_config(prompt_type: str, description: str = "", now: datetime | None = None) -> PromptConfig:
    return PromptConfig(prompt_type=prompt_type, description=description[:2000], auto_created=True,
                        updated_at=now or datetime.now(timezone.utc))


class AutoCreator:
    def __init__(self, view: ConfigSource):
        self.view = view
        self.settled: set[str] = set()
        self.pending: dict[str, str] = {}  # prompt type -> description, until the view is ready

    def check(self, prompt_type: str, description: str = "") -> PromptConfig | None:
        """The config to publish for ``prompt_type``, if it needs one now."""
        if prompt_type in self.settled:
            return None
        if not self.view.ready:
            self.pending.setdefault(prompt_type, description)
            return None
        self.settled.add(prompt_type)
        self.pending.pop(prompt_type, None)
        if self.view.known(prompt_type):
            return None
        config = auto_config(prompt_type, description)
        self.view.put_local(prompt_type, config)
        return config

    def drain(self) -> list[PromptConfig]:
        """Configs for the prompt types that waited for the view (once it is ready)."""
        if not self.view.ready:
            return []
        created = [self.check(pt, description) for pt, description in list(self.pending.items())]
        return [c for c in created if c is not None]


class WorkerViews:
    """Prompt configs and budgets for the worker's agents, started on first use."""

    def __init__(self, settings: CommonSettings):
        from consumers.prompt_configs import BudgetsView, PromptConfigView
        from stream_processors.alerts.budgets import load_budgets_file
        from stream_processors.alerts.rules import budgets_file_from_env

        self.configs = PromptConfigView(settings)
        self.budgets = BudgetsView(settings, load_budgets_file(budgets_file_from_env()))
        self.creator = AutoCreator(self.configs)
        self._started = False

    def start(self) -> "WorkerViews":
        if not self._started:
            self._started = True
            # kafka-python's network thread warns whenever it waits for the GIL more than 0.1 s,
            # which a busy worker always makes it do; in the worker only these views use it.
            logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)
            self.configs.start()
            self.budgets.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        from consumers.prompt_configs import wait_all_ready

        self.start()
        return wait_all_ready([self.configs, self.budgets], timeout)

    def budget(self, key: str) -> Budget | None:
        return self.budgets.get(key)

    def close(self) -> None:
        self.configs.close()
        self.budgets.close()
