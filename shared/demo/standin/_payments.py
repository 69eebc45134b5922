"""What happens to a Checkout payment afterwards: a delayed payment settling, a session expiring, a
refund. Each adds the event Stripe sends for it. Functions take the store; callers hold its lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...money import format_amount
from . import _invoices
from ._catalog import merge_metadata, unsupported
from ._errors import StripeError, no_such
from ._objects import fixture, new_id, now

if TYPE_CHECKING:
    from ._store import Store

JSON = dict[str, Any]

_REFUND_CREATE = {"amount", "charge", "expand", "metadata", "payment_intent", "reason"}


def completed(store: Store, session_id: str) -> None:
    """The events Stripe sends for a session just completed: `checkout.session.completed`, after those
    of the subscription a paid subscription Checkout started."""
    session = store.sessions[session_id]
    _subscription_started(store, session)
    store.add_event("checkout.session.completed", session, created=None, id=None)


def _subscription_started(store: Store, session: JSON) -> None:
    # The order among these is Stripe's usual one, which it does not promise (nor do we rely on it).
    if session["mode"] != "subscription" or session["invoice"] is None:
        return
    store.add_event("customer.subscription.created", store.subscriptions[session["subscription"]],
                    created=None, id=None)
    store.add_event("invoice.paid", store.invoices[session["invoice"]], created=None, id=None)
    paid = store.invoice_payments.get(session["invoice"])
    if paid is not None:  # a $0 invoice (a trial) has no payment
        store.add_event("invoice_payment.paid", paid, created=None, id=None)


def settle(store: Store, session_id: str) -> JSON | None:
    """A bank transfer arrived: the unpaid, completed session is paid. None if it is not waiting.

    A subscription's first invoice is made and paid now, and its events sent before the session's. (Stripe
    sends `customer.subscription.created` at completion with the subscription `incomplete`, then `updated`
    once paid; the stand-in's subscription is active from the start, so it is announced once, paid.)"""
    session = store.sessions.get(session_id)
    if session is None or (session["status"], session["payment_status"]) != ("complete", "unpaid"):
        return None
    session["payment_status"] = "paid"
    if session["mode"] == "subscription" and session["invoice"] is None:
        sub = store.subscriptions[session["subscription"]]
        session["invoice"] = _invoices.first_invoice(store, sub, session)["id"]
        _subscription_started(store, session)
    store.add_event("checkout.session.async_payment_succeeded", session, created=None, id=None)
    return session


def expire_session(store: Store, session_id: str, params: JSON) -> JSON:
    session = store.sessions.get(session_id)
    if session is None:
        raise no_such("checkout.session", session_id)
    unsupported(params, {"expand"}, "POST /v1/checkout/sessions/{id}/expire")
    if session["status"] != "open":
        raise StripeError(
            f"Only Checkout Sessions with a status in [\"open\"] can be expired; {session_id} is "
            f"{session['status']}.",
        )
    session["status"] = "expired"
    store.add_event("checkout.session.expired", session, created=None, id=None)
    return session


def create_refund(store: Store, params: JSON) -> JSON:
    unsupported(params, _REFUND_CREATE, "POST /v1/refunds")
    if ("charge" in params) == ("payment_intent" in params):
        raise StripeError("You must pass either a charge or a payment_intent, but not both.")
    charge = _charge(store, params)
    left = charge["amount"] - charge["amount_refunded"]
    amount = params.get("amount", left)
    if amount < 1 or amount > left:
        raise StripeError(
            f"Refund amount ({format_amount(amount, charge['currency'])}) is greater than the unrefunded "
            f"amount on the charge ({format_amount(left, charge['currency'])}).",
            code="amount_too_large" if amount > left else "parameter_invalid_integer",
            param="amount",
        )
    refund = fixture("refund")
    refund.update(
        id=new_id("re_"),
        amount=amount,
        charge=charge["id"],
        payment_intent=charge["payment_intent"],
        currency=charge["currency"],
        created=now(),
        reason=params.get("reason"),
        metadata=merge_metadata({}, params.get("metadata", {})),
        status="succeeded",
    )
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    charge["refunds"] = {
        "object": "list",
        "data": [refund, *charge["refunds"]["data"]],
        "has_more": False,
        "url": f"/v1/charges/{charge['id']}/refunds",
    }
    store.add_event("charge.refunded", charge, created=None, id=None)
    return refund


def _charge(store: Store, params: JSON) -> JSON:
    """The charge of a paid payment-mode session, by payment intent or charge id; made on first use."""
    if "charge" in params:
        found = [c for c in store.charges.values() if c["id"] == params["charge"]]
        if not found:
            raise no_such("charge", params["charge"], param="charge", status=400)
        return found[0]
    intent = params["payment_intent"]
    if intent in store.charges:
        return store.charges[intent]
    sessions = [s for s in store.sessions.values() if s["payment_intent"] == intent]
    if not sessions:
        raise no_such("payment_intent", intent, param="payment_intent", status=400)
    session = sessions[0]
    if session["payment_status"] != "paid":
        raise StripeError(
            f"This PaymentIntent ({intent}) does not have a successful charge to refund.",
            code="charge_not_refundable",
            param="payment_intent",
        )
    charge = fixture("charge")
    email = (session["customer_details"] or {}).get("email")
    charge.update(
        id=new_id("ch_"),
        amount=session["amount_total"],
        amount_captured=session["amount_total"],
        amount_refunded=0,
        captured=True,
        paid=True,
        refunded=False,
        disputed=False,
        status="succeeded",
        currency=session["currency"],
        customer=session["customer"],
        payment_intent=intent,
        receipt_email=email,
        created=now(),
        livemode=False,
        metadata={},
        refunds={"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"},
    )
    store.charges[intent] = charge
    return charge
