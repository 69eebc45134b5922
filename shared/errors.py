"""The errors the API answers with. Each carries its HTTP status and a stable code.

One handler in `app.py` turns any `ApiError` into `{"error": {"code": …, "message": …}}`.
"""

from __future__ import annotations


class ApiError(Exception):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ApiError):
    status_code = 400


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status_code = 405
    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class TooManyRequests(ApiError):
    status_code = 429
    code = "rate_limited"


class Misconfigured(ApiError):
    """A setting is missing or malformed. The message names the setting, never its value."""

    status_code = 500
    code = "misconfigured"


class UpstreamError(ApiError):
    """Stripe failed or could not be reached."""

    status_code = 502
    code = "stripe_error"


class StoreUnavailable(ApiError):
    """The order store could not durably record something; the caller should retry."""

    status_code = 503
    code = "store_unavailable"


class InvalidSignature(ApiError):
    status_code = 400
    code = "invalid_signature"
