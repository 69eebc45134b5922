"""Self-service for subscribers: from the Checkout Session a buyer returned with, to Stripe's
hosted Customer Portal, where they update their card, see invoices, or cancel.

Whoever holds a completed session's id can open its customer's portal — the same trust Stripe's
own sample places in it. The id reaches only the buyer (in their success URL); a seller who wants
more can switch to the portal's own login link, which verifies the email (see README).
"""

from __future__ import annotations

from typing import Any

from ..errors import Code, InvalidRequest, NotFound
from .stripe_api import StripeGateway


def portal_url(gateway: StripeGateway, session_id: str, site_url: str) -> str:
    session = gateway.retrieve_session(session_id)
    if session.get("status") != "complete":
        raise InvalidRequest("This checkout is not complete yet.", code=Code.SESSION_NOT_COMPLETE)
    customer = _id(session.get("customer"))
    if not customer:
        raise InvalidRequest("This order has no customer account to manage (one-time purchases have none).",
                             code=Code.NO_CUSTOMER)
    try:
        portal = gateway.create_portal_session(customer, return_url=f"{site_url}/success.html?session_id={session_id}")
    except NotFound:
        # The customer was deleted at Stripe since the purchase: nothing left to manage.
        raise InvalidRequest("This order's customer account no longer exists.", code=Code.NO_CUSTOMER) from None
    return str(portal["url"])


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value or None
