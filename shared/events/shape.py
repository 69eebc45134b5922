"""The shape `decide` reads, checked before it reads anything. Pure.

A signed event is still input: a Stripe API version this code was not written for could send a field
of another type. Such an event is `invalid_payload`, and the message names the field. Once an event
passes this check, `decide` and the order model must be able to read it: if they fail anyway, that
is our bug, which the webhook answers with a logged, counted 5xx (and Stripe retries), never a 4xx.

So this table lists every field `decide` reads, by event type. A field may be absent or null unless
it is required; an expandable field is an ID or an expanded object with one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from ..orders.lines import ITEMS_KEYS
from ..orders.reservations import RESERVATION_METADATA_KEY


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _whole(value: Any) -> bool:
    # Amounts and times are integers in Stripe's API (and a float would reach DynamoDB as one); the
    # bound is Stripe's own (64-bit), and keeps a number within what DynamoDB stores.
    return type(value) is int and -(2**63) <= value < 2**63


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _id(value: Any) -> bool:
    # Stripe's IDs are at most 255 characters; ours become storage keys, which have a size limit.
    return isinstance(value, str) and 0 < len(value) <= 255


def _expandable(value: Any) -> bool:
    return value == "" or _id(value) or (isinstance(value, dict) and (value.get("id") in (None, "")
                                                                       or _id(value["id"])))


@dataclass(frozen=True)
class ListOf:
    """A Stripe list object (`{"object": "list", "data": [...]}`) whose entries have these fields."""

    fields: Fields


@dataclass(frozen=True)
class ArrayOf:
    """A plain array of objects with these fields (`custom_fields`, `discounts`, `tax_ids`)."""

    fields: Fields


@dataclass(frozen=True)
class Expandable:
    """An expandable field: an ID, or the object it expands to, with these fields."""

    fields: Fields


Rule = Union[Callable[[Any], bool], "Fields", ListOf, ArrayOf, Expandable]
Fields = dict[str, Rule]

_EXPECTED: dict[Callable[[Any], bool], str] = {
    _text: "a string", _id: "an ID", _whole: "an integer", _flag: "true or false",
    _expandable: "an ID or an object with one",
}

PRESENTMENT: Fields = {"presentment_amount": _whole, "presentment_currency": _text}
ADDRESS: Fields = {name: _text for name in ("line1", "line2", "city", "state", "postal_code", "country")}
SHIPPING_DETAILS: Fields = {"name": _text, "address": ADDRESS}
SHIPPING_RATE = Expandable({"display_name": _text})
COUPON = Expandable({"name": _text})
SESSION: Fields = {
    "id": _id, "payment_status": _text, "mode": _text, "amount_total": _whole, "amount_subtotal": _whole,
    "currency": _text, "customer_email": _text,
    "customer_details": {"email": _text, "name": _text, "individual_name": _text, "business_name": _text,
                         "phone": _text, "address": ADDRESS, "tax_ids": ArrayOf({"type": _text, "value": _text})},
    "customer": _expandable, "payment_intent": _expandable, "subscription": _expandable, "invoice": _expandable,
    "created": _whole, "livemode": _flag,
    "line_items": ListOf({"description": _text, "quantity": _whole, "amount_subtotal": _whole,
                          "amount_discount": _whole, "amount_tax": _whole, "amount_total": _whole, "currency": _text,
                          "price": Expandable({"unit_amount": _whole})}),
    "metadata": {**{key: _text for key in ITEMS_KEYS}, RESERVATION_METADATA_KEY: _text},
    "presentment_details": PRESENTMENT,
    "currency_conversion": {"amount_total": _whole, "amount_subtotal": _whole, "source_currency": _text},
    # The sale's breakdown (orders/sale.py), in each API shape.
    "total_details": {"amount_discount": _whole, "amount_shipping": _whole, "amount_tax": _whole,
                      "breakdown": {"discounts": ArrayOf({"amount": _whole, "discount": {
                          "promotion_code": Expandable({"code": _text}), "coupon": COUPON,
                          "source": {"coupon": COUPON}}})}},
    "discounts": ArrayOf({"promotion_code": Expandable({"code": _text}), "coupon": COUPON}),
    "shipping_cost": {"amount_subtotal": _whole, "amount_tax": _whole, "amount_total": _whole,
                      "shipping_rate": SHIPPING_RATE},
    "shipping_rate": SHIPPING_RATE,
    "collected_information": {"shipping_details": SHIPPING_DETAILS, "business_name": _text},
    "shipping_details": SHIPPING_DETAILS,
    "shipping": SHIPPING_DETAILS,
    "custom_fields": ArrayOf({"key": _text, "type": _text, "label": {"custom": _text}, "text": {"value": _text},
                              "numeric": {"value": _text},
                              "dropdown": {"value": _text, "options": ArrayOf({"label": _text, "value": _text})}}),
    "consent": {"terms_of_service": _text, "promotions": _text},
}
REFUND: Fields = {"id": _id, "payment_intent": _expandable, "charge": _expandable, "amount": _whole,
                  "currency": _text, "status": _text, "created": _whole}
CHARGE: Fields = {"id": _id, "payment_intent": _expandable, "invoice": _expandable, "amount": _whole,
                  "amount_refunded": _whole, "currency": _text, "refunds": ListOf(REFUND)}
DISPUTE: Fields = {"id": _id, "payment_intent": _expandable, "charge": _expandable, "status": _text, "reason": _text,
                   "amount": _whole, "currency": _text}
FRAUD_WARNING: Fields = {"id": _id, "payment_intent": _expandable, "charge": _expandable, "fraud_type": _text,
                         "actionable": _flag}
SUBSCRIPTION: Fields = {
    "id": _id, "status": _text, "customer": _expandable, "current_period_end": _whole,
    "cancel_at_period_end": _flag, "cancel_at": _whole, "canceled_at": _whole, "trial_end": _whole,
    "items": ListOf({"current_period_end": _whole, "price": _expandable}),
}
INVOICE_PAYMENT: Fields = {"invoice": _expandable, "status": _text,
                           "payment": {"type": _text, "payment_intent": _expandable}}
INVOICE: Fields = {
    "id": _id, "subscription": _expandable, "amount_paid": _whole, "amount_due": _whole, "currency": _text,
    "period_start": _whole, "period_end": _whole, "billing_reason": _text, "hosted_invoice_url": _text,
    "customer_email": _text, "payment_intent": _expandable,
    "parent": {"subscription_details": {"subscription": _expandable}},
    "lines": ListOf({"period": {"start": _whole, "end": _whole}}),
    "payments": ListOf(INVOICE_PAYMENT),
}

# Each handled type: the fields of its object, and which of them it cannot do without.
OBJECTS: dict[str, tuple[Fields, tuple[str, ...]]] = {
    **{f"checkout.session.{kind}": (SESSION, ("id",))
       for kind in ("completed", "async_payment_succeeded", "async_payment_failed", "expired")},
    "charge.refunded": (CHARGE, ("id",)),
    **{kind: (REFUND, ("id",)) for kind in ("charge.refund.updated", "refund.created", "refund.updated",
                                            "refund.failed")},
    "charge.dispute.created": (DISPUTE, ("id",)),
    "charge.dispute.closed": (DISPUTE, ("id",)),
    "radar.early_fraud_warning.created": (FRAUD_WARNING, ("id",)),
    **{f"customer.subscription.{kind}": (SUBSCRIPTION, ("id",))
       for kind in ("created", "updated", "deleted", "trial_will_end")},
    **{f"invoice.{kind}": (INVOICE, ()) for kind in ("paid", "payment_failed", "payment_action_required")},
    "invoice_payment.paid": (INVOICE_PAYMENT, ()),
}


def event_problem(value: Any) -> str | None:
    """What makes `value` an event `decide` cannot read, or None when it can."""
    if not isinstance(value, dict):
        return "it is not an object"
    if not _id(value.get("id")):
        return "its id is not an ID"
    if not isinstance(value.get("type"), str):
        return "its type is not a string"
    if not _whole(value.get("created")):
        return "its created time is not an integer"
    data = value.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "its data.object is not an object"
    fields, required = OBJECTS.get(value["type"], ({}, ()))
    obj = data["object"]
    for name in required:
        if not _id(obj.get(name)):
            return f"data.object.{name} is required for {value['type']}, as an ID"
    return _problem(obj, fields, "data.object")


def _problem(obj: dict[str, Any], fields: Fields, path: str) -> str | None:
    for name, rule in fields.items():
        value, where = obj.get(name), f"{path}.{name}"
        if value is None:
            continue
        if isinstance(rule, ListOf):
            if not isinstance(value, dict):
                return f"{where} is not a list object"
            entries = value.get("data")
            if entries is None:
                continue
            found = _entries_problem(entries, rule.fields, f"{where}.data")
            if found:
                return found
        elif isinstance(rule, ArrayOf):
            found = _entries_problem(value, rule.fields, where)
            if found:
                return found
        elif isinstance(rule, Expandable):
            if not _expandable(value):
                return f"{where} is not {_EXPECTED[_expandable]}"
            found = _problem(value, rule.fields, where) if isinstance(value, dict) else None
            if found:
                return found
        elif isinstance(rule, dict):
            if not isinstance(value, dict):
                return f"{where} is not an object"
            found = _problem(value, rule, where)
            if found:
                return found
        elif not rule(value):
            return f"{where} is not {_EXPECTED[rule]}"
    return None


def _entries_problem(entries: Any, fields: Fields, where: str) -> str | None:
    if not isinstance(entries, list):
        return f"{where} is not an array"
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            return f"{where}[{index}] is not an object"
        found = _problem(entry, fields, f"{where}[{index}]")
        if found:
            return found
    return None
