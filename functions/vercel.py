"""Vercel: the shared app as the ASGI `app` the Python runtime serves.

Vercel's runtime imports the entry file (`api/index.py`, which re-exports this), finds the
top-level `app`, and serves it with uvicorn in one long-lived process. The rewrites in
`vercel.json` send `/api/<route>` to that function while the request keeps its original path,
so the app sees `/api/webhook` exactly as it does locally. Static pages come from `public/`.

The connection the function sees comes from Vercel's own proxy, not the buyer. Vercel's edge sets
`x-real-ip` to the address that connected to it, overwriting any value a client sent (Vercel's
request-headers documentation; the function cannot be reached around the edge), so this adapter
hands the app that address as the connection's, as mangum hands it the function URL's `sourceIp`.
The import runs with the garbage collector paused (functions/coldstart.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.coldstart import without_gc

if TYPE_CHECKING:
    from starlette.applications import Starlette

EDGE_CLIENT_HEADER = b"x-real-ip"


class ClientFromVercelEdge:
    """The address Vercel's edge saw connect, as the request's client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            edge = [value for name, value in scope.get("headers", []) if name.lower() == EDGE_CLIENT_HEADER]
            if len(edge) == 1 and edge[0].strip():
                scope = {**scope, "client": (edge[0].decode("latin-1").strip(), 0)}
        await self.app(scope, receive, send)


def _app() -> Starlette:
    from shared.web.app import create_app

    app = create_app()
    app.add_middleware(ClientFromVercelEdge)
    return app


app = without_gc(_app)
