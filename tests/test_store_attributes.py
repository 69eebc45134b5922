"""Our DynamoDB attribute codec agrees with boto3's (which the tests may import; the functions do not)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shared.store.attributes import dump, from_attribute, load, to_attribute

ITEM = {"s": "Ada ✓", "empty": "", "n": 3000, "neg": -5, "f": 0.125, "t": True, "f2": False, "none": None,
        "l": [1, "two", {"three": [3.5]}], "m": {"a": {"b": None}}, "big": 10**37}


def test_an_item_survives_the_round_trip():
    assert load(dump(ITEM)) == ITEM


def _decimals(value):
    # boto3 takes floats only as Decimal.
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def _floats(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    return value


def test_the_wire_format_is_boto3s():
    theirs = TypeSerializer()
    for name, value in ITEM.items():
        expected = theirs.serialize(_decimals(value))
        assert to_attribute(value) == expected, name
    back = TypeDeserializer()
    for name, value in ITEM.items():
        assert from_attribute(to_attribute(value)) == _floats(back.deserialize(to_attribute(value))), name


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**38 * 7, Decimal("Infinity"), object()])
def test_what_dynamodb_cannot_hold_is_refused_before_the_call(value):
    with pytest.raises((ValueError, TypeError)):
        to_attribute(value)
