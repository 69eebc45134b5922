"""Cross-origin access to the API: which browser origins may read its answers, and `Vary: Origin`.

An answer carries `Access-Control-Allow-Origin` only for an allowed origin, so the same URL answers
differently by `Origin`. Every API response says so (`Vary: Origin`), whether this one carried the
header or not: a shared cache that stored the copy without it must not serve that copy to an
allowed site (`/api/config` is cacheable by design).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..settings import Settings
from .routes import API_PREFIX


def cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin and (origin == settings.site_url or origin in settings.cors_origins):
        return {"Access-Control-Allow-Origin": origin}
    return {}


class VaryOnOrigin:
    """Adds `Origin` to `Vary` on every response under /api/, errors included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_varied(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
                varied = [v.decode("latin-1") for k, v in message.get("headers", []) if k.lower() == b"vary"]
                names = [n.strip() for value in varied for n in value.split(",") if n.strip()]
                if not any(n.lower() == "origin" for n in names):
                    names.append("Origin")
                message = {**message, "headers": headers + [(b"vary", ", ".join(names).encode("latin-1"))]}
            await send(message)

        await self.app(scope, receive, send_varied)
