"""A local stand-in for the Stripe API, driven by the real `stripe` package: the tests' Stripe, and the
demo's (`python -m shared serve --demo`), where it also serves the Checkout page and delivers webhooks.

with StripeStandIn() as standin:
    client = stripe.StripeClient("sk_test_123", base_addresses={"api": standin.url})
"""

from ._errors import StripeError
from ._objects import fixture
from ._store import RecordedRequest
from .server import StripeStandIn

__all__ = ["RecordedRequest", "StripeError", "StripeStandIn", "fixture"]
