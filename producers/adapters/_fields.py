"""Read a field from an SDK response object or from its plain-dict (JSON) form alike."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_MISSING = object()
_CLASS_HAS: dict[tuple[type, str], bool] = {}


def _class_has(cls: type, name: str) -> bool:
    key = (cls, name)
    found = _CLASS_HAS.get(key)
    if found is None:
        found = _CLASS_HAS[key] = hasattr(cls, name)
    return found


_IS_MODEL: dict[type, bool] = {}


def _is_model(obj: Any) -> bool:
    """isinstance(obj, BaseModel), cached per type (ABC instance checks are slow)."""
    cls = type(obj)
    found = _IS_MODEL.get(cls)
    if found is None:
        found = _IS_MODEL[cls] = isinstance(obj, BaseModel)
    return found


def _get(obj: Any, name: str) -> Any:
    """``obj[name]`` or ``obj.name``, None when absent. Pydantic models (the SDKs' responses) are
    read from their field dict: a missing attribute there costs an exception, here it does not."""
    if isinstance(obj, dict):
        return obj.get(name)
    if _is_model(obj):
        value = obj.__dict__.get(name, _MISSING)
        if value is not _MISSING:
            return value
        extra = obj.__pydantic_extra__
        if extra and name in extra:
            return extra[name]
        if _class_has(type(obj), name):  # a property or class attribute
            return getattr(obj, name, None)
        return None
    return getattr(obj, name, None)


def pick(obj: Any, *names: str) -> Any:
    """The first of ``names`` that ``obj`` carries with a non-None value (attribute or key)."""
    if obj is None:
        return None
    for name in names:
        value = _get(obj, name)
        if value is not None:
            return value
    return None


def has(obj: Any, name: str) -> bool:
    """Whether ``obj`` carries ``name`` at all (even as None)."""
    if obj is None:
        return False
    if isinstance(obj, dict):
        return name in obj
    if _is_model(obj):
        return name in obj.__dict__ or bool(obj.__pydantic_extra__ and name in obj.__pydantic_extra__)
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
