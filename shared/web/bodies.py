"""Reading request bodies safely: a size cap enforced while reading, and content types checked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from .. import _json
from ..errors import Code, InvalidRequest
from .errors import PayloadTooLarge, UnsupportedMediaType

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is over {limit // 1024} KiB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is over {limit // 1024} KiB.")
    return bytes(body)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_purchase(request: Request, limit: int) -> tuple[dict[str, Any], bool]:
    """The buy request's fields, and whether it came from a plain HTML form."""
    kind = media_type(request)
    if kind not in (JSON, FORM):
        raise UnsupportedMediaType("Send JSON (application/json) or a form (application/x-www-form-urlencoded).")
    body = await read_body(request, limit)
    if kind == FORM:
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)), True
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequest("The form body could not be read.", code=Code.INVALID_FORM) from None
    try:
        data = _json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        raise InvalidRequest("The body is not valid JSON.", code=Code.INVALID_JSON) from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.", code=Code.INVALID_JSON)
    return data, False
