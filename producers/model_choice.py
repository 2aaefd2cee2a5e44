"""Which model serves an operation, by the design documents' priority:
task override > account default > operation default > system default."""

from __future__ import annotations

from typing import Mapping


def _given(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def choose_model(
    operation: str,
    *,
    task_override: str | None = None,
    account_default: str | None = None,
    operation_defaults: Mapping[str, str | None],
    system_default: str,
) -> str:
    """The model for ``operation``: the first set (non-empty) of the task's override, the
    account's default, the operation's default in ``operation_defaults``, ``system_default``.

    Raises ``ValueError`` if ``system_default`` is empty (there must always be an answer).
    """
    fallback = _given(system_default)
    if fallback is None:
        raise ValueError("system_default must name a model")
    return (
        _given(task_override)
        or _given(account_default)
        or _given(operation_defaults.get(operation))
        or fallback
    )
