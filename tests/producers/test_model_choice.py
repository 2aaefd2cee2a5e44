"""Model choice: task override > account default > operation default > system default."""

from __future__ import annotations

import pytest

from producers.model_choice import choose_model

DEFAULTS = {"clustering": "gpt-4o-mini", "content": "gpt-4.1", "images": None}


def test_task_override_wins_over_everything():
    assert choose_model("content", task_override="o3", account_default="claude-sonnet-4-5",
                        operation_defaults=DEFAULTS, system_default="gpt-4o") == "o3"


def test_account_default_wins_over_operation_and_system():
    assert choose_model("content", account_default="claude-sonnet-4-5",
                        operation_defaults=DEFAULTS, system_default="gpt-4o") == "claude-sonnet-4-5"


def test_operation_default_wins_over_system():
    assert choose_model("clustering", operation_defaults=DEFAULTS, system_default="gpt-4o") == "gpt-4o-mini"


@pytest.mark.parametrize("operation", ["unknown-op", "images"])
def test_system_default_when_nothing_else_is_set(operation):
    assert choose_model(operation, operation_defaults=DEFAULTS, system_default="gpt-4o") == "gpt-4o"


def test_blank_values_count_as_unset():
    assert choose_model("content", task_override="  ", account_default="", operation_defaults=DEFAULTS,
                        system_default="gpt-4o") == "gpt-4.1"


def test_an_empty_system_default_is_refused():
    with pytest.raises(ValueError, match="system_default"):
        choose_model("content", operation_defaults={}, system_default=" ")
