"""Small checks for configuration read from a file, each naming the key it refused. Pure.

A check takes a value and the dotted path of its key (`shipping_options[0].shipping_rate_data.display_name`,
as Stripe names parameters) and returns the value, or raises `Invalid` saying what the key must be.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

Check = Callable[[Any, str], Any]


class Invalid(ValueError):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem


def key(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(path, "must be true or false")
    return value


def whole(least: int, most: int) -> Check:
    def check(value: Any, path: str) -> int:
        # TOML's true is no number, though Python's bool is an int.
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
            raise Invalid(path, f"must be a whole number from {least} to {most}")
        return value
    return check


def text(most: int, pattern: str | None = None, shape: str = "") -> Check:
    """A string of 1 to `most` characters; with `pattern`, matching it (`shape` says what it looks like)."""
    compiled = re.compile(pattern) if pattern else None

    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            raise Invalid(path, f"must be text of 1 to {most} characters")
        if compiled is not None and not compiled.fullmatch(value):
            raise Invalid(path, f"must be {shape}")
        return value
    return check


def one_of(values: Collection[str], hint: str | None = None) -> Check:
    """One of `values`; the message lists them, or says `hint` where they are too many to list."""
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in values:
            raise Invalid(path, f"must be {hint or 'one of ' + ', '.join(sorted(values))}")
        return value
    return check


def array(item: Check, *, most: int, least: int = 1) -> Check:
    def check(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list) or not least <= len(value) <= most:
            raise Invalid(path, f"must be a list of {least} to {most}")
        return [item(entry, key(path, index)) for index, entry in enumerate(value)]
    return check


def table(fields: Mapping[str, Check], *, required: Collection[str] = (), each: Check | None = None,
          keys: Check | None = None) -> Check:
    """A table of the named `fields`, or (with `each`) of any keys `keys` accepts, each value checked by `each`."""
    def check(value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(path, "must be a table")
        checked: dict[str, Any] = {}
        for name, entry in value.items():
            where = key(path, name)
            if name in fields:
                checked[name] = fields[name](entry, where)
            elif each is not None:
                checked[(keys or text(40))(name, where)] = each(entry, where)
            else:
                expected = ", ".join(sorted(fields))
                raise Invalid(where, f"is not a known key here (expected one of: {expected})")
        for name in required:
            if name not in value:
                raise Invalid(key(path, name), "is required")
        return checked
    return check
