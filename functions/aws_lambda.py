"""AWS Lambda: the shared app behind mangum, for Function URLs and API Gateway HTTP (v2) and REST (v1) APIs.

mangum picks the event shape by its keys, decodes `isBase64Encoded` bodies to the bytes the client
sent (so webhook signatures verify), and folds multi-value headers and query strings into the ASGI
scope. Lifespan is off: mangum would run startup and shutdown on every invocation, and the app
needs neither — clients are built on first use and kept while the container stays warm. The app
writes its metrics at the end of every request, before the container can be frozen. The import and
the first invocation run with the garbage collector paused (functions/coldstart.py).
"""

from __future__ import annotations

from functions.coldstart import Handler, first_call_without_gc, without_gc


def _app() -> Handler:
    from mangum import Mangum

    from shared.web.app import create_app

    return Mangum(create_app(one_request_at_a_time=True), lifespan="off")  # as Lambda hands an instance requests


handler = first_call_without_gc(without_gc(_app))
