"""Vercel: the shared app as the ASGI `app` the Python runtime serves.

Vercel's runtime imports the entry file (`api/index.py`, which re-exports this), finds the
top-level `app`, and serves it with uvicorn in one long-lived process. The rewrites in
`vercel.json` send `/api/<route>` to that function while the request keeps its original path,
so the app sees `/api/webhook` exactly as it does locally. Static pages come from `public/`.
The import runs with the garbage collector paused (functions/coldstart.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.coldstart import without_gc

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _app() -> Starlette:
    from shared.web.app import create_app

    return create_app()


app = without_gc(_app)
