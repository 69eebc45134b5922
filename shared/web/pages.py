"""`public/` as the local server (`serve`) serves it: the pages' security headers, and no redirect
built from the request's `Host`.

Starlette's StaticFiles answers a directory without its trailing slash (`GET /.`) with a redirect to
the absolute URL it rebuilds from `Host`: whoever sends the request picks the host it points to, and
a cache in front would keep that. Here such a redirect names only a path, of this site.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from .headers import page_headers


class _Pages(StaticFiles):
    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if isinstance(response, RedirectResponse):
            # `path` is the normalised path inside the directory ("." for its root): never "//host".
            inside = "" if path in (".", "") else path.replace(os.sep, "/").strip("/") + "/"
            return RedirectResponse("/" + inside, status_code=response.status_code)
        return response


def pages_app(directory: str, stripe_api_base: str | None) -> Any:
    """`public/` with the security headers the platforms' configs give the pages."""
    files = _Pages(directory=directory, html=True)
    headers = [(name.lower().encode(), value.encode()) for name, value in page_headers(stripe_api_base).items()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await files(scope, receive, send_with_headers)

    return app
