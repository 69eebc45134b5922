"""The Starlette app: the same routes on every platform. Routes translate HTTP; the logic lives elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from .. import __version__, telemetry
from ..errors import Code, DomainError, InvalidRequest, InvalidSignature, Misconfigured
from . import routes as paths
from .bodies import read_body, read_purchase
from .errors import HTTP_CODES, error_body, headers_of, status_of
from .services import Services

if TYPE_CHECKING:
    from .ratelimit import Count

CHECKOUT_BODY_LIMIT = 16 * 1024
T = TypeVar("T")


def create_app(services: Services | None = None, *, static_dir: str | None = None,
               one_request_at_a_time: bool = False) -> Starlette:
    """`one_request_at_a_time`: the platform never hands this process a request before the last one is
    answered (AWS Lambda), so blocking work (Stripe, DynamoDB) runs inline rather than in a worker thread,
    which a server needs to go on serving others. Under mangum a worker thread is no saving anyway: anyio
    ends its workers with each invocation, so every request would start one anew (~0.5 ms warm)."""
    services = services or Services()
    blocking = _inline if one_request_at_a_time else run_in_threadpool

    def limit_rate(request: Request) -> Count:
        """Starts counting the request against its client's limit, beside the request: see ratelimit.Count."""
        from .ratelimit import Count, client_address

        settings = services.settings
        client = ""
        if settings.rate_limit is not None:
            client = client_address(dict(request.headers), request.client.host if request.client else None,
                                    settings.client_ip_header)
        return Count(settings.rate_limit, lambda: services.store, client, may_block=one_request_at_a_time)

    async def settle(count: Count) -> None:
        if not count.settled:
            await blocking(count.settle)

    async def create_checkout_session(request: Request) -> Response:
        settings = services.settings
        count = limit_rate(request)
        try:
            data, from_form = await read_purchase(request, CHECKOUT_BODY_LIMIT)
            if from_form:
                data.pop("uiMode", None)  # embedded Checkout needs the script; a plain form gets the hosted page
            from ..checkout.sessions import create_session

            site = settings.require("site_url")
            # stripe's import first, then the count. Started with the request, the count's thread would share
            # the interpreter with that import, to neither's gain; started now, its botocore import and its
            # DynamoDB round trip fill the price look-up's wait on Stripe. Warm, both are instant.
            await blocking(lambda: services.gateway.client)
            count.start()
            created = await blocking(create_session, services.catalog, services.gateway, site, data,
                                     request.headers.get("idempotency-key"), admit=count.admit)
        finally:
            await settle(count)
        if from_form:
            return RedirectResponse(created["url"], status_code=303, headers=_cors(request, settings))
        return JSONResponse(created, headers=_cors(request, settings))

    async def checkout_session(request: Request) -> Response:
        from ..checkout.sessions import check_session_id, summary
        from ..events.recovery import record_session

        session_id = check_session_id(request.query_params.get("session_id"))
        settings = services.settings
        settings.require("stripe_secret_key")

        def load() -> dict[str, Any]:
            session = services.gateway.retrieve_session(session_id)
            order = record_session(services.store, services.fulfiller, session)
            return summary(session, order)

        body = await blocking(load)  # Stripe's 404 arrives as `session_not_found`
        headers = {"Cache-Control": "no-store", **_cors(request, settings)}
        return JSONResponse(body, headers=headers)

    async def create_portal_session(request: Request) -> Response:
        from ..checkout.portal import portal_url
        from ..checkout.sessions import check_session_id

        settings = services.settings
        count = limit_rate(request)
        await settle(count)
        count.admit()  # the verdict first: the session read is the client's choice, and not cached
        data, from_form = await read_purchase(request, CHECKOUT_BODY_LIMIT)
        session_id = check_session_id(data.get("session_id") if isinstance(data.get("session_id"), str) else None)
        site = settings.require("site_url")
        url = await blocking(portal_url, services.gateway, session_id, site)
        if from_form:
            return RedirectResponse(url, status_code=303, headers=_cors(request, settings))
        return JSONResponse({"url": url}, headers=_cors(request, settings))

    async def config(request: Request) -> Response:
        """What the pages may know: the publishable key embedded Checkout needs (public by design)."""
        settings = services.settings
        key = settings.require("stripe_publishable_key")
        return JSONResponse({"publishableKey": key}, headers={"Cache-Control": "public, max-age=300",
                                                             **_cors(request, settings)})

    async def webhook(request: Request) -> Response:
        from ..events.intake import MAX_BODY, parse_event, process

        settings = services.settings
        secrets = settings.require("webhook_secrets")
        payload = await read_body(request, MAX_BODY)
        try:
            event = parse_event(payload, request.headers.get("stripe-signature"), secrets)
        except InvalidSignature:
            telemetry.count("InvalidSignatures")
            raise
        except InvalidRequest:
            telemetry.count("InvalidPayloads")
            raise
        telemetry.count("EventsReceived")
        outcome = await blocking(process, event, services.store, services.fulfiller,
                                 lease_seconds=settings.event_lease_seconds)
        # The correlation id goes with each line, not into the logger's shared keys: a Vercel or
        # local process serves requests concurrently, and they would overwrite each other's.
        telemetry.logger().info("webhook handled", extra={
            "correlation_id": event["id"], "event_type": event["type"], "outcome": outcome})
        return JSONResponse({"received": True, "outcome": outcome})

    async def health(request: Request) -> Response:
        from ..settings import _KNOWN, Settings

        body: dict[str, Any] = {"status": "ok", "version": __version__}
        problems: list[str] = []
        try:
            settings = services.settings
        except Misconfigured as exc:
            problems, settings = exc.message.split("; "), Settings(present=())
        if settings.fulfillment_hook:
            try:
                _ = services.fulfiller  # loads FULFILLMENT_HOOK, as the first paid order would
            except Misconfigured as exc:
                problems.append(exc.message)
        if problems:
            body.update(status="misconfigured", problems=problems)
        body["settings"] = {"present": list(settings.present),
                            "missing": [name for name in _KNOWN if name not in settings.present]}
        if settings.stripe_mode is not None:
            body["stripe_mode"] = settings.stripe_mode
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def preflight(request: Request) -> Response:
        headers = _cors(request, services.settings)
        if headers:
            headers.update({"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                            "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
                            "Access-Control-Max-Age": "600"})
        return Response(status_code=204, headers=headers)

    routes: list[BaseRoute] = [
        Route(paths.CREATE_CHECKOUT_SESSION, create_checkout_session, methods=["POST"]),
        Route(paths.CREATE_CHECKOUT_SESSION, preflight, methods=["OPTIONS"]),
        Route(paths.CHECKOUT_SESSION, checkout_session, methods=["GET"]),
        Route(paths.CHECKOUT_SESSION, preflight, methods=["OPTIONS"]),
        Route(paths.CREATE_PORTAL_SESSION, create_portal_session, methods=["POST"]),
        Route(paths.CREATE_PORTAL_SESSION, preflight, methods=["OPTIONS"]),
        Route(paths.CONFIG, config, methods=["GET"]),
        Route(paths.WEBHOOK, webhook, methods=["POST"]),
        Route(paths.HEALTH, health, methods=["GET"]),
    ]
    if static_dir is not None:
        # Under /api the API answers alone, as deployed, where no files share its paths: a wrong method is a
        # JSON 405 with Allow, an unknown path a JSON 404, never the static 404 page.
        api_alone = Router(routes=list(routes))
        routes += [Route("/api", api_alone), Route("/api/{path:path}", api_alone),
                   Mount("/", app=_pages(static_dir, services))]

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        status = status_of(exc)
        if status >= 500:
            telemetry.logger().warning("request failed", extra={"path": request.url.path, "code": exc.code})
        return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers_of(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, Code.HTTP_ERROR)
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Never a traceback or an exception's text in a response: it could quote a payload.
        telemetry.logger().exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(error_body(Code.INTERNAL_ERROR, "Something went wrong; please retry."), status_code=500)

    return Starlette(routes=routes, middleware=[Middleware(FlushMetrics)], exception_handlers={
        DomainError: on_error, HTTPException: on_http_error, Exception: on_unexpected})


async def _inline(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return fn(*args, **kwargs)


class FlushMetrics:
    """Writes each request's counters when it ends: a Lambda container may be frozen right after,
    and on a long-lived server they would otherwise wait until 100 values piled up."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            telemetry.flush()


def _pages(directory: str, services: Services) -> Any:
    """`public/` with the security headers the platforms' configs give the pages."""
    from starlette.staticfiles import StaticFiles

    from .headers import page_headers

    files = StaticFiles(directory=directory, html=True)
    headers = [(name.lower().encode(), value.encode())
               for name, value in page_headers(services.settings.stripe_api_base).items()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await files(scope, receive, send_with_headers)

    return app


def _cors(request: Request, settings: Any) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin and (origin == settings.site_url or origin in settings.cors_origins):
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}
