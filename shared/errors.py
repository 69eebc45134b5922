"""Our errors, and every error code. Plain exceptions: none knows about HTTP.

Each error carries a stable `code` (a `Code`, the one list of them) and a `message` safe to show to
whoever asked: it may name a setting or a field, never a secret's value or a payload. The kinds below
say what went wrong; the web layer's table (`web/errors.py`) turns a kind into a status, the command
line prints the message, and the EventBridge handler lets the error fail the invocation.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code an error can carry. The API's are listed in public/openapi.json and the README."""

    # The request cannot be acted on: the caller's to fix.
    INVALID_JSON = "invalid_json"
    INVALID_FORM = "invalid_form"
    MISSING_PRICE = "missing_price"
    UNKNOWN_PRICE = "unknown_price"
    INACTIVE_PRICE = "inactive_price"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ITEMS = "invalid_items"
    MIXED_CURRENCIES = "mixed_currencies"
    MIXED_INTERVALS = "mixed_intervals"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_UI_MODE = "invalid_ui_mode"
    INVALID_SESSION_ID = "invalid_session_id"
    SESSION_NOT_COMPLETE = "session_not_complete"
    NO_CUSTOMER = "no_customer"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PAYLOAD = "invalid_payload"
    INVALID_SOURCE = "invalid_source"
    TOO_MANY_PRICES = "too_many_prices"
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"

    # HTTP's own, answered by the web layer.
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"

    # Something does not exist (in Stripe, or at that path).
    NOT_FOUND = "not_found"
    SESSION_NOT_FOUND = "session_not_found"
    PRICE_NOT_FOUND = "price_not_found"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    SUBSCRIPTION_NOT_FOUND = "subscription_not_found"

    # Someone else is doing it: retry shortly.
    EVENT_IN_PROGRESS = "event_in_progress"
    FULFILMENT_IN_PROGRESS = "fulfilment_in_progress"
    OUT_OF_STOCK = "out_of_stock"  # not a retry: what is left is in the answer

    # Ours (or the seller's) to fix, or to retry.
    MISCONFIGURED = "misconfigured"
    STRIPE_ERROR = "stripe_error"
    STORE_UNAVAILABLE = "store_unavailable"
    FULFILMENT_FAILED = "fulfilment_failed"
    INTERNAL_ERROR = "internal_error"

    # The seller's command line only.
    INVALID_LIMIT = "invalid_limit"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    INVALID_SUBSCRIPTION = "invalid_subscription"
    AMBIGUOUS_CUSTOMER = "ambiguous_customer"
    SEVERAL_ITEMS = "several_items"
    NOT_RECURRING = "not_recurring"
    CURRENCY_MISMATCH = "currency_mismatch"


class DomainError(Exception):
    """The base of our errors. A kind either has a default code or takes one at each raise."""

    code: Code

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    @property
    def details(self) -> dict[str, int | str]:
        """Fields the answer carries beside `code` and `message` (e.g. how many are left); none by default."""
        return {}


class InvalidRequest(DomainError):
    """The input cannot be acted on; `code` says which rule it broke.

    `line` is the cart line (1 for the first) the error is about, when it is about one.
    """

    def __init__(self, message: str, *, code: Code, line: int | None = None) -> None:
        super().__init__(message, code=code)
        self.line = line

    @property
    def details(self) -> dict[str, int | str]:
        return {"line": self.line} if self.line is not None else {}


class InvalidSignature(DomainError):
    """A webhook delivery whose signature does not verify: nothing of it is read."""

    code = Code.INVALID_SIGNATURE


class NotFound(DomainError):
    def __init__(self, message: str, *, code: Code) -> None:
        super().__init__(message, code=code)


class Conflict(DomainError):
    """Another invocation holds what this one needs (retrying shortly succeeds), or what was asked for
    is no longer there (out of stock). Each kind has its code."""


class Unauthorized(DomainError):
    """A caller without the credential a route asks for (the scheduler's bearer token)."""

    code = Code.UNAUTHORIZED


class RateLimited(DomainError):
    """Over the limit; `retry_after` is the seconds until the window ends."""

    code = Code.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Misconfigured(DomainError):
    """A setting is missing or malformed. The message names the setting, never its value."""

    code = Code.MISCONFIGURED


class UpstreamError(DomainError):
    """Stripe failed or could not be reached."""

    code = Code.STRIPE_ERROR


class StoreUnavailable(DomainError):
    """The order store could not durably record something; the caller should retry."""

    code = Code.STORE_UNAVAILABLE


class OperationFailed(DomainError):
    """Work done on the caller's behalf failed and was undone, so a retry runs it again."""
