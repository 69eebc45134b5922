"""`python -m shared demo expire | refund`: what happens to a checkout after the buyer left, done to
the running demo through Stripe's own API calls (the stand-in serves them), so Stripe's events follow:
`checkout.session.expired`, `charge.refunded`, each delivered to the app's webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..money import format_amount


class DemoError(Exception):
    """What to tell the person at the terminal."""


def expire(environment: Mapping[str, str], session_id: str) -> str:
    session = _call(environment, lambda c: c.v1.checkout.sessions.expire(session_id))
    return (f"Expired {session['id']}: Stripe sends checkout.session.expired to "
            f"{environment['SITE_URL']}/api/webhook; `python -m shared orders` shows the order expired.")


def refund(environment: Mapping[str, str], session_id: str, amount: int | None) -> str:
    session = _call(environment, lambda c: c.v1.checkout.sessions.retrieve(session_id))
    intent = session.get("payment_intent")
    if not intent:
        raise DemoError(f"{session_id} has no payment to refund: it is not paid, or it is a subscription "
                        "(whose payments are its invoices).")
    params: dict[str, Any] = {"payment_intent": intent}
    if amount is not None:
        params["amount"] = amount
    made = _call(environment, lambda c: c.v1.refunds.create(params=params))
    refunded = format_amount(made["amount"], made["currency"])
    return (f"Refunded {refunded} of {session_id} ({made['id']}): Stripe sends charge.refunded to "
            f"{environment['SITE_URL']}/api/webhook; `python -m shared orders` shows the refund.")


def _call(environment: Mapping[str, str], fn: Callable[[Any], Any]) -> dict[str, Any]:
    import stripe

    from ..checkout.stripe_api import API_VERSION

    client = stripe.StripeClient(environment["STRIPE_SECRET_KEY"], stripe_version=API_VERSION,
                                 base_addresses={"api": environment["STRIPE_API_BASE"]}, max_network_retries=0)
    try:
        result: dict[str, Any] = fn(client).to_dict()
    except stripe.StripeError as exc:
        raise DemoError(exc.user_message or "the Stripe stand-in refused") from exc
    return result
