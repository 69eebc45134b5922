"""Our errors as HTTP answers: the one table from an error's kind to its status, and the JSON body.

Below this layer errors are plain (`shared.errors`); here each becomes
`{"error": {"code": …, "message": …}}` (and the error's own details: the cart `line` it is about, how many
are `available`) with its status, and a rate limit's wait becomes `Retry-After`.
The two errors only HTTP has (a body too large, a content type we do not read) live here too.
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    Code,
    Conflict,
    DomainError,
    InvalidRequest,
    InvalidSignature,
    Misconfigured,
    NotFound,
    OperationFailed,
    RateLimited,
    StoreUnavailable,
    Unauthorized,
    UpstreamError,
)


class PayloadTooLarge(DomainError):
    code = Code.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(DomainError):
    code = Code.UNSUPPORTED_MEDIA_TYPE


STATUS: dict[type[DomainError], int] = {
    InvalidRequest: 400,
    InvalidSignature: 400,
    Unauthorized: 401,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RateLimited: 429,
    Misconfigured: 500,
    OperationFailed: 500,
    UpstreamError: 502,
    StoreUnavailable: 503,  # nothing half-done was kept: a retry (Stripe's, or the buyer's) starts over
}

# Starlette's own errors for requests no route takes.
HTTP_CODES = {404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED}


def status_of(error: DomainError) -> int:
    """The status of the nearest kind in the table; an error of no listed kind is ours, so 500."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def headers_of(error: DomainError) -> dict[str, str]:
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return {}


def error_body(code: Code, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON of an error; `details` are the error's own fields beside code and message (`DomainError.details`)."""
    return {"error": {"code": code.value, "message": message, **(details or {})}}
