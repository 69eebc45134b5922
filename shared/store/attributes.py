"""Items to and from DynamoDB's attribute values (`{"S": …}`, `{"N": …}`, `{"M": …}`…).

boto3's TypeSerializer does this, but importing it imports boto3 (see `shared/aws.py`). Our items hold
JSON-shaped data: strings, numbers, booleans, null, lists and maps. Numbers come back as `int` when
whole and `float` otherwise, which is what every amount and timestamp we store is.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

MAX_DIGITS = 38  # DynamoDB's precision


def dump(item: dict[str, Any]) -> dict[str, Any]:
    return {name: to_attribute(value) for name, value in item.items()}


def load(item: dict[str, Any]) -> dict[str, Any]:
    return {name: from_attribute(value) for name, value in item.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: True is an int too
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__}")


def from_attribute(attribute: dict[str, Any]) -> Any:
    [(kind, value)] = attribute.items()
    if kind == "S" or kind == "B" or kind == "BOOL":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {from_attribute({"N": v}) for v in value}
    raise TypeError(f"unknown attribute type {kind}")


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float):
        # A float is stored as its shortest repr (17 digits at most); NaN and infinities have none.
        if not math.isfinite(value):
            raise ValueError("cannot store a non-finite number")
        return repr(value)
    text = str(value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("cannot store a non-finite number")
    if len(text.lstrip("-").replace(".", "").lstrip("0")) > MAX_DIGITS and value == int(value):
        raise ValueError(f"cannot store a number of more than {MAX_DIGITS} digits")
    return text
