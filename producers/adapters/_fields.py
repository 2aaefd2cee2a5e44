"""Read a field from an SDK response object or from its plain-dict (JSON) form alike."""

from __future__ import annotations

from typing import Any


def pick(obj: Any, *names: str) -> Any:
    """The first of ``names`` that ``obj`` carries with a non-None value (attribute or key)."""
    if obj is None:
        return None
    is_mapping = isinstance(obj, dict)
    for name in names:
        value = obj.get(name) if is_mapping else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def has(obj: Any, name: str) -> bool:
    """Whether ``obj`` carries ``name`` at all (even as None)."""
    if obj is None:
        return False
    if isinstance(obj, dict):
        return name in obj
    return hasattr(obj, name)


def count(obj: Any, *names: str) -> int:
    """A token count: the first present field as a non-negative int, 0 when absent or invalid."""
    value = pick(obj, *names)
    if value is None or isinstance(value, bool):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


def text(obj: Any, *names: str) -> str | None:
    value = pick(obj, *names)
    return value if isinstance(value, str) and value else None
