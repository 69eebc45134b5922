"""The one error type of the stand-in: it carries Stripe's error shape and HTTP status."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """Raised anywhere in the stand-in; the HTTP layer turns it into Stripe's error body."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        # Stripe omits code and param rather than sending nulls; the client reads them with .get().
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def unknown_parameter(param: str) -> StripeError:
    return StripeError(
        f"Received unknown parameter: {param}", code="parameter_unknown", param=param
    )


def missing_parameter(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(resource: str, id: str, *, param: str = "id", status: int = 404) -> StripeError:
    # Stripe answers 404 when the path names a missing object, 400 when a body parameter does.
    return StripeError(
        f"No such {resource}: '{id}'", status=status, code="resource_missing", param=param
    )
