"""Configs carried on compacted topics: per-prompt-type switches and spend budgets.

``ai.prompt-configs.v1`` (key: the prompt type) carries :class:`PromptConfig`; the latest record
per key wins. ``track_full_data`` decides whether ClickHouse keeps a call's prompt and response;
``is_active`` whether it keeps the call at all (live statistics and the snapshot update anyway).

``ai.budgets.v1`` (key: :attr:`Budget.key`) carries :class:`Budget`; a record with no value
(a tombstone) removes the budget.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROMPT_CONFIG_TYPE = "ai.prompt-config.v1"
BUDGET_TYPE = "ai.budget.v1"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class PromptConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["ai.prompt-config.v1"] = PROMPT_CONFIG_TYPE
    prompt_type: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    track_full_data: bool = False
    is_active: bool = True
    auto_created: bool = Field(default=False, description="Published by the worker on first sight.")
    updated_at: datetime = EPOCH

    @classmethod
    def default(cls, prompt_type: str) -> "PromptConfig":
        """The config of a prompt type nobody configured (never stored)."""
        return cls(prompt_type=prompt_type)


class PromptConfigPatch(BaseModel):
    """The fields ``PATCH /v1/prompt-types/{id}`` may change; absent fields are kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str | None = Field(default=None, max_length=2000)
    track_full_data: bool | None = None
    is_active: bool | None = None

    def apply(self, config: PromptConfig, now: datetime | None = None) -> PromptConfig:
        changes = self.model_dump(exclude_none=True)
        changes["updated_at"] = now or datetime.now(timezone.utc)
        changes["auto_created"] = False
        return config.model_copy(update=changes)


BudgetScope = Literal["account", "user", "prompt_type"]
DEFAULT_THRESHOLDS = (50, 80, 100)


class Budget(BaseModel):
    """A monthly (calendar month, UTC, by event time) spend budget in USD.

    * ``scope="account"``: ``account_id`` required;
    * ``scope="user"``: ``account_id`` and ``user_id`` required (user ids are per account);
    * ``scope="prompt_type"``: ``prompt_type`` required (all accounts together).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ai.budget.v1"] = BUDGET_TYPE
    scope: BudgetScope
    account_id: str | None = Field(default=None, max_length=200)
    user_id: str | None = Field(default=None, max_length=200)
    prompt_type: str | None = Field(default=None, max_length=200)
    monthly_usd: Decimal = Field(gt=0, max_digits=30, decimal_places=12)
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    updated_at: datetime = EPOCH

    @field_validator("thresholds")
    @classmethod
    def _sorted_percentages(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(p <= 0 or p > 1000 for p in value):
            raise ValueError("thresholds are percentages of the budget, each in 1..1000")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _subject_present(self) -> "Budget":
        needed = {"account": ("account_id",), "user": ("account_id", "user_id"), "prompt_type": ("prompt_type",)}
        for name in needed[self.scope]:
            if not getattr(self, name):
                raise ValueError(f"a {self.scope} budget needs {name}")
        return self

    @property
    def key(self) -> str:
        return budget_key(self.scope, self.account_id, self.user_id, self.prompt_type)

    @property
    def subject(self) -> str:
        if self.scope == "account":
            return f"account={self.account_id}"
        if self.scope == "user":
            return f"account={self.account_id} user={self.user_id}"
        return f"prompt_type={self.prompt_type}"


def budget_key(scope: str, account_id: str | None = None, user_id: str | None = None,
               prompt_type: str | None = None) -> str:
    """The compacted-topic key of a budget (and of the spend state that budget watches)."""
    if scope == "account":
        return f"account:{account_id}"
    if scope == "user":  # ids may contain any character: a JSON pair keeps the key unambiguous
        return "user:" + json.dumps([account_id, user_id], separators=(",", ":"))
    if scope == "prompt_type":
        return f"prompt_type:{prompt_type}"
    raise ValueError(f"unknown budget scope {scope!r}")
