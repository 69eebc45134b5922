"""Validate request parameters against the stripe package's own TypedDict definitions.

A misspelt or misplaced parameter must fail a test the way it fails against Stripe, so every key is
checked, recursively, against `stripe.params`. Values are coerced from wire strings to the types the
definitions name (int, bool, list, ...) so handlers never parse strings themselves.
"""

from __future__ import annotations

import functools
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from stripe import RequestOptions, StripeContext, StripeObject

# typing.is_typeddict misses the typing_extensions TypedDicts that stripe.params uses.
from typing_extensions import is_typeddict

from ._errors import StripeError, missing_parameter, unknown_parameter

# Params classes inherit RequestOptions, whose keys are client options, never sent on the wire.
_CLIENT_OPTIONS = frozenset(RequestOptions.__annotations__)
# Inherited RequestOptions annotations are strings naming things in *its* module (one of them only
# under TYPE_CHECKING), so they cannot be evaluated in the subclass's module without this.
_OPTIONS_NAMESPACE = {
    **vars(sys.modules[RequestOptions.__module__]),
    "StripeContext": StripeContext,
}


@dataclass(frozen=True)
class Node:
    """Everything one parameter may be: the union of its type's alternatives, flattened."""

    enum: tuple[str, ...] = ()
    empty_ok: bool = False  # `Literal[""]`: an empty string unsets the field
    scalars: tuple[type, ...] = ()
    objects: tuple[type, ...] = ()  # TypedDicts; their fields are resolved lazily, on first use
    array: Node | None = None
    hash: Node | None = None  # free-form keys (metadata), values of this shape


def _merge(a: Node, b: Node) -> Node:
    def both(x: Node | None, y: Node | None) -> Node | None:
        return _merge(x, y) if x and y else x or y

    return Node(
        enum=a.enum + b.enum,
        empty_ok=a.empty_ok or b.empty_ok,
        scalars=a.scalars + b.scalars,
        objects=a.objects + b.objects,
        array=both(a.array, b.array),
        hash=both(a.hash, b.hash),
    )


@functools.cache
def _node(hint: Any) -> Node:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (NotRequired, Required, Annotated):
        return _node(args[0])
    if origin in (Union, types.UnionType):
        return functools.reduce(_merge, (_node(a) for a in args if a is not type(None)))
    if origin is Literal:
        values = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in args)
        return Node(enum=tuple(v for v in values if v), empty_ok="" in values)
    if origin is list:
        return Node(array=_node(args[0]))
    if isinstance(origin, type) and issubclass(origin, (Mapping, StripeObject)):
        # Dict[str, X] and UntypedStripeObject[X] (what metadata accepts) are free-form hashes;
        # an empty value is how Stripe deletes one key (`metadata[k]=`), so it always passes.
        return Node(hash=replace(_node(args[-1]), empty_ok=True))
    if is_typeddict(hint):
        return Node(objects=(hint,))
    if hint in (str, int, bool, float, Decimal):
        return Node(scalars=(hint,))
    raise TypeError(f"stand-in cannot validate parameters of type {hint!r}")


@functools.cache
def _fields(typed_dict: type) -> tuple[dict[str, Node], frozenset[str]]:
    """Resolve one TypedDict's fields; slow (it evaluates string annotations), hence cached."""
    hints = get_type_hints(typed_dict, include_extras=True, localns=_OPTIONS_NAMESPACE)
    fields = {name: _node(hint) for name, hint in hints.items() if name not in _CLIENT_OPTIONS}
    required = frozenset(typed_dict.__required_keys__) - _CLIENT_OPTIONS  # type: ignore[attr-defined]
    return fields, required


# Every Stripe endpoint takes `expand`, even where the SDK's definition forgets it.
_TOP_LEVEL = {"expand": Node(array=Node(scalars=(str,)))}


def validate(params_class: type, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check decoded params against `params_class`; return them coerced, or raise StripeError."""
    return _check_object(params_class, params, "", _TOP_LEVEL)


def _join(path: str, key: str | int) -> str:
    return str(key) if not path else f"{path}[{key}]"


def _check_object(
    typed_dict: type, value: Mapping[str, Any], path: str, extra: Mapping[str, Node] = {}
) -> dict[str, Any]:
    fields, required = _fields(typed_dict)
    fields = {**extra, **fields}
    for key in value:
        if key not in fields:
            raise unknown_parameter(_join(path, key))
    # Children first, so a misspelt nested key is reported rather than the parent's missing one.
    checked = {key: _check(fields[key], item, _join(path, key)) for key, item in value.items()}
    for key in sorted(required - set(value)):
        raise missing_parameter(_join(path, key))
    return checked


def _check(node: Node, value: Any, path: str) -> Any:
    if isinstance(value, str):
        return _check_string(node, value, path)
    if isinstance(value, list):
        if node.array:
            return [_check(node.array, item, _join(path, i)) for i, item in enumerate(value)]
        # A hash whose keys happen to be 0..n-1 was decoded as a list; give it its keys back.
        value = {str(i): item for i, item in enumerate(value)}
    if node.hash:
        return {key: _check(node.hash, item, _join(path, key)) for key, item in value.items()}
    if node.objects:
        return _check_one_of(node.objects, value, path)
    if node.array and all(key.isdigit() for key in value):
        items = [value[key] for key in sorted(value, key=int)]
        return [_check(node.array, item, _join(path, i)) for i, item in enumerate(items)]
    raise StripeError(f"Invalid {_kind(node)}", param=path)


def _check_one_of(objects: tuple[type, ...], value: Mapping[str, Any], path: str) -> Any:
    first_error: StripeError | None = None
    for typed_dict in objects:
        try:
            return _check_object(typed_dict, value, path)
        except StripeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _check_string(node: Node, value: str, path: str) -> Any:
    if value == "":
        if node.empty_ok:
            return ""
        raise StripeError(
            f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
            "from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=path,
        )
    if node.enum:
        # The SDK widens every enum to `Literal[...] | str` so old clients accept new values in
        # responses; the API itself still rejects a value outside the enum, so we do too.
        if value in node.enum:
            return value
        # `cancel_at` is `int | Literal["min_period_end", ...]`: a number is not an enum value.
        for kind in node.scalars:
            parsed = None if kind is str else _parse(kind, value)
            if parsed is not None:
                return parsed
        raise StripeError(f"Invalid {path}: must be one of {_one_of(node.enum)}", param=path)
    if str in node.scalars:
        return value
    for kind in node.scalars:
        parsed = _parse(kind, value)
        if parsed is not None:
            return parsed
    code = "parameter_invalid_integer" if int in node.scalars else None
    raise StripeError(f"Invalid {_kind(node)}: {value}", code=code, param=path)


def _parse(kind: type, value: str) -> Any:
    if kind is bool:
        return {"true": True, "false": False}.get(value)
    if kind is int:
        # Python's int() also takes " 5" and "5_000"; Stripe's parser does not.
        return int(value) if re.fullmatch(r"-?\d+", value) else None
    try:
        return kind(value)
    except (ValueError, InvalidOperation):
        return None


def _kind(node: Node) -> str:
    if node.scalars:
        names = {int: "integer", bool: "boolean", float: "decimal", Decimal: "decimal"}
        return names.get(node.scalars[0], "string")
    if node.array:
        return "array"
    return "hash" if node.hash or node.objects else "string"


def _one_of(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])}, or {values[-1]}"
