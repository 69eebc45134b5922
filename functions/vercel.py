"""Vercel: the shared app as the ASGI `app` the Python runtime serves.

Vercel's runtime imports the entry file (`api/index.py`, which re-exports this), finds the
top-level `app`, and serves it with uvicorn in one long-lived process. The rewrites in
`vercel.json` send `/api/<route>` to that function while the request keeps its original path,
so the app sees `/api/webhook` exactly as it does locally. Static pages come from `public/`.
"""

from __future__ import annotations

from shared.web.app import create_app

app = create_app()
