"""`trigger`: send a correctly signed sample event to a webhook endpoint, for sellers without the Stripe CLI.

The samples are small objects shaped like Stripe's (its published `fixtures3.json`), holding the
fields our handler reads, with fresh IDs per run, so each delivery is a new event. Nothing here calls Stripe: the event
never existed there, and `reconcile` will not find it. A paid order triggered this way is recorded
and fulfilled like a real one, so point `--to` at a test deployment.
"""

from __future__ import annotations

import json
import secrets
import string
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..checkout.stripe_api import API_VERSION
from ..events.signature import sign
from ..orders.lines import items_metadata

JSON = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits
_DAY = 24 * 3600


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class Delivery:
    status: int  # 0: no answer
    body: str


def _session(now: int, *, status: str = "complete", payment_status: str = "paid", paid: bool = True) -> JSON:
    items = [{"price": "price_sample", "quantity": 1, "description": "Sample item", "amount_total": 2000}]
    return {
        "id": new_id("cs_test_", 58), "object": "checkout.session", "mode": "payment", "status": status,
        "payment_status": payment_status, "amount_total": 2000, "amount_subtotal": 2000, "currency": "usd",
        "customer": None, "customer_email": None, "subscription": None, "created": now - 120, "livemode": False,
        "customer_details": {"email": "buyer@example.com", "name": "Sample Buyer"} if paid else None,
        "payment_intent": new_id("pi_") if paid else None,
        "metadata": items_metadata(items),
        "url": None,
    }


def _charge(now: int) -> JSON:
    return {"id": new_id("ch_"), "object": "charge", "amount": 2000, "amount_refunded": 2000, "refunded": True,
            "currency": "usd", "payment_intent": new_id("pi_"), "status": "succeeded", "created": now - 60,
            "livemode": False}


def _dispute(now: int, status: str) -> JSON:
    return {"id": new_id("dp_"), "object": "dispute", "amount": 2000, "currency": "usd", "reason": "fraudulent",
            "status": status, "charge": new_id("ch_"), "payment_intent": new_id("pi_"), "created": now - 60,
            "livemode": False}


def _refund(now: int, status: str) -> JSON:
    return {"id": new_id("re_"), "object": "refund", "amount": 2000, "currency": "usd", "status": status,
            "charge": new_id("ch_"), "payment_intent": new_id("pi_"), "reason": "requested_by_customer",
            "created": now - 60, "metadata": {},
            **({"failure_reason": "expired_or_canceled_card"} if status == "failed" else {})}


def _fraud_warning(now: int) -> JSON:
    return {"id": new_id("issfr_"), "object": "radar.early_fraud_warning", "actionable": True,
            "charge": new_id("ch_"), "payment_intent": new_id("pi_"), "fraud_type": "made_with_stolen_card",
            "created": now - 60, "livemode": False}


def _invoice_payment(now: int) -> JSON:
    return {"id": new_id("inpay_"), "object": "invoice_payment", "invoice": new_id("in_"), "is_default": True,
            "payment": {"type": "payment_intent", "payment_intent": new_id("pi_")}, "status": "paid",
            "amount_paid": 500, "amount_requested": 500, "currency": "usd", "created": now - 60, "livemode": False,
            "status_transitions": {"paid_at": now - 60, "canceled_at": None}}


def _subscription(now: int, status: str = "active") -> JSON:
    sub_id = new_id("sub_")
    price = {"id": "price_sample", "object": "price", "currency": "usd", "unit_amount": 500, "type": "recurring",
             "recurring": {"interval": "month", "interval_count": 1}}
    item = {"id": new_id("si_", 14), "object": "subscription_item", "price": price, "quantity": 1,
            "subscription": sub_id, "current_period_start": now - _DAY, "current_period_end": now + 29 * _DAY}
    return {"id": sub_id, "object": "subscription", "status": status, "customer": new_id("cus_", 14),
            "cancel_at_period_end": False, "cancel_at": None, "canceled_at": now if status == "canceled" else None,
            "trial_end": now + 3 * _DAY if status == "trialing" else None,
            "created": now - _DAY, "currency": "usd", "livemode": False, "metadata": {},
            "items": {"object": "list", "data": [item], "has_more": False}}


def _invoice(now: int, paid: bool) -> JSON:
    period = {"start": now - _DAY, "end": now + 29 * _DAY}
    invoice_id = new_id("in_")
    return {"id": invoice_id, "object": "invoice", "status": "paid" if paid else "open", "currency": "usd",
            "amount_due": 500, "amount_paid": 500 if paid else 0, "customer": new_id("cus_", 14),
            "created": now - 60, "livemode": False, "billing_reason": "subscription_cycle",
            "customer_email": "buyer@example.com",
            "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_sample/test_{invoice_id}",
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": new_id("sub_")}},
            "lines": {"object": "list", "data": [{"id": new_id("il_"), "amount": 500, "period": period}]}}


SAMPLES: dict[str, Callable[[int], JSON]] = {
    "checkout.session.completed": lambda now: _session(now),
    "checkout.session.async_payment_succeeded": lambda now: _session(now),
    "checkout.session.async_payment_failed": lambda now: _session(now, payment_status="unpaid"),
    "checkout.session.expired": lambda now: _session(now, status="expired", payment_status="unpaid", paid=False),
    "charge.refunded": _charge,
    "charge.refund.updated": lambda now: _refund(now, "failed"),
    "refund.created": lambda now: _refund(now, "pending"),
    "refund.updated": lambda now: _refund(now, "succeeded"),
    "refund.failed": lambda now: _refund(now, "failed"),
    "charge.dispute.created": lambda now: _dispute(now, "needs_response"),
    "charge.dispute.closed": lambda now: _dispute(now, "lost"),
    "radar.early_fraud_warning.created": _fraud_warning,
    "customer.subscription.created": lambda now: _subscription(now),
    "customer.subscription.updated": lambda now: _subscription(now),
    "customer.subscription.deleted": lambda now: _subscription(now, status="canceled"),
    "customer.subscription.trial_will_end": lambda now: _subscription(now, status="trialing"),
    "invoice.paid": lambda now: _invoice(now, paid=True),
    "invoice.payment_failed": lambda now: _invoice(now, paid=False),
    "invoice.payment_action_required": lambda now: _invoice(now, paid=False),
    "invoice_payment.paid": _invoice_payment,
}


def sample_event(event_type: str, *, overrides: Iterable[tuple[str, Any]] = (), now: int | None = None) -> JSON:
    """A new event of this type; `overrides` set fields of its object (`customer_details.email`)."""
    stamp = int(time.time()) if now is None else now
    obj = SAMPLES[event_type](stamp)
    for path, value in overrides:
        _set(obj, path, value)
    return {"id": new_id("evt_"), "object": "event", "api_version": API_VERSION, "created": stamp,
            "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type}


def parse_override(text: str) -> tuple[str, Any]:
    """`field.path=value`; the value is read as JSON when it is JSON (numbers, true, null), else as text."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ValueError("an override looks like field=value, e.g. payment_intent=pi_123")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return path.strip(), value


def http_url(url: str) -> str:
    """The endpoint's address, if it is one urllib should POST to (never file: or ftp:)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) address, e.g. http://127.0.0.1:8000/api/webhook")
    return url


def deliver(url: str, event: JSON, secret: str, *, timeout: float = 10.0) -> Delivery:
    """POST the event as Stripe would, signed with `secret`; the endpoint's answer, whatever it is."""
    body = json.dumps(event).encode()
    request = urllib.request.Request(http_url(url), data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "static-checkout-trigger",
        "Stripe-Signature": sign(body, secret)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (the seller's own URL)
            return Delivery(answer.status, answer.read(4096).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return Delivery(exc.code, exc.read(4096).decode("utf-8", "replace"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Delivery(0, f"no answer from {url}: {reason}")


def _set(obj: JSON, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = obj.get(part)
        if not isinstance(child, dict):
            child = obj[part] = {}
        obj = child
    obj[last] = value
