"""Reading values out of Stripe objects that may lack them or hold another type: each reader gives what
it expects, or None (or nothing), never an exception. Pure."""

from __future__ import annotations

from typing import Any


def whole(value: Any) -> int | None:
    """An integer (Stripe's amounts and times), not a bool."""
    return value if type(value) is int else None


def text(value: Any) -> str | None:
    """A string with something in it."""
    return value if isinstance(value, str) and value else None


def ident(value: Any) -> str | None:
    """An expandable field's id: the field itself, or the id of the object it was expanded to."""
    if isinstance(value, dict):
        return text(value.get("id"))
    return text(value)


def obj(value: Any) -> dict[str, Any]:
    """An object, or an empty one."""
    return value if isinstance(value, dict) else {}


def objs(value: Any) -> list[dict[str, Any]]:
    """The objects of an array."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
