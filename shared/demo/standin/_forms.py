"""Decode Stripe's bracket-nested form encoding (`a[b][0]=x`, `expand[]=y`) into nested values."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from ._errors import StripeError

# Leaves stay strings: the wire has no types, and the params schema decides what each one means.
Tree = str | list["Tree"] | dict[str, "Tree"]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode(encoded: str) -> dict[str, Tree]:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise StripeError(f"Invalid parameter name: {key}", param=key)
        segments = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _assign(root, segments, value, key)
    return {k: _listify(v) for k, v in root.items()}


def _assign(node: dict[str, Any], segments: list[str], value: str, key: str) -> None:
    for i, segment in enumerate(segments):
        if segment == "":
            # `[]` appends; numbering it keeps one representation for both array spellings.
            segment = str(len(node))
        if i == len(segments) - 1:
            if isinstance(node.get(segment), dict):
                raise StripeError(f"Invalid parameter: {key} is both a value and a hash", param=key)
            node[segment] = value
            return
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise StripeError(f"Invalid parameter: {key} is both a value and a hash", param=key)
        node = child


def _listify(node: str | dict[str, Any]) -> Tree:
    """Turn `{"0": a, "1": b}` into `[a, b]` so arrays read as arrays in tests and handlers.

    Only contiguous indices convert; anything else stays a hash, and the schema walk decides.
    """
    if not isinstance(node, dict):
        return node
    children = {k: _listify(v) for k, v in node.items()}
    if children and set(children) == {str(i) for i in range(len(children))}:
        return [children[str(i)] for i in range(len(children))]
    return children
