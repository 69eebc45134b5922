"""The Starlette app: the same routes on every platform. Routes translate HTTP; the logic lives elsewhere."""

from __future__ import annotations

import hmac
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
from ..errors import Code, DomainError, InvalidRequest, InvalidSignature, Misconfigured, Unauthorized
from . import routes as paths
from .bodies import read_body, read_purchase
from .cors import VaryOnOrigin, cors_headers
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

    def client_of(request: Request) -> str:
        """The bucket of the client's address, as far as it can be trusted (see `client.py`)."""
        from .client import bucket, client_address

        settings = services.settings
        peer = request.client.host if request.client else None
        return bucket(client_address(request.headers, peer, ip_header=settings.client_ip_header,
                                     proxy_secret=settings.proxy_secret))

    def limit_rate(client: str, group: str) -> Count:
        """The client's count against its limit for this route group, made beside the request once started:
        see ratelimit.Count."""
        from .ratelimit import CHECKOUT, Count

        settings = services.settings
        limit = settings.rate_limit if group == CHECKOUT else settings.summary_rate_limit
        return Count(limit, lambda: services.store, client, group=group, may_block=one_request_at_a_time)

    async def settle(count: Count) -> None:
        if not count.settled:
            await blocking(count.settle)

    async def limit_first(request: Request, group: str) -> str:
        """Count the request and await the verdict before anything else: for routes whose Stripe call is the
        client's choice and not cached. Returns the client's bucket."""
        client = client_of(request)
        count = limit_rate(client, group)
        await settle(count)
        count.admit()
        return client

    async def create_checkout_session(request: Request) -> Response:
        from .ratelimit import CHECKOUT

        settings = services.settings
        client = client_of(request)
        count = limit_rate(client, CHECKOUT)
        try:
            data, from_form = await read_purchase(request, CHECKOUT_BODY_LIMIT)
            if from_form:
                data.pop("uiMode", None)  # embedded Checkout needs the script; a plain form gets the hosted page
            from ..checkout.sessions import create_session

            site = settings.require("site_url")
            secret = settings.require("stripe_secret_key")
            # stripe's import first, then the count. Started with the request, the count's thread would share
            # the interpreter with that import, to neither's gain; started now, its botocore import and its
            # DynamoDB round trip fill the price look-up's wait on Stripe. Warm, both are instant.
            await blocking(lambda: services.gateway.client)
            count.start()
            created = await blocking(create_session, services.catalog, services.gateway, site, data,
                                     request.headers.get("idempotency-key"), services.checkout_options,
                                     client=client, secret=secret, store=services.store,
                                     admit=count.admit)
        finally:
            await settle(count)
        # The answer opens this buyer's checkout: no cache may keep it.
        headers = {"Cache-Control": "no-store", **cors_headers(request, settings)}
        if from_form:
            return RedirectResponse(created["url"], status_code=303, headers=headers)
        return JSONResponse(created, headers=headers)

    async def checkout_session(request: Request) -> Response:
        from ..checkout.sessions import check_session_id, summary
        from ..events.recovery import record_session
        from .ratelimit import SUMMARY

        session_id = check_session_id(request.query_params.get("session_id"))
        settings = services.settings
        settings.require("stripe_secret_key")
        await limit_first(request, SUMMARY)  # each look-up is a Stripe request, invented ids included

        def load() -> dict[str, Any]:
            session = services.gateway.retrieve_session(session_id)
            order = record_session(services.store, services.fulfiller, session)
            return summary(session, order)

        body = await blocking(load)  # Stripe's 404 arrives as `session_not_found`
        headers = {"Cache-Control": "no-store", **cors_headers(request, settings)}
        return JSONResponse(body, headers=headers)

    async def create_portal_session(request: Request) -> Response:
        from ..checkout.portal import portal_url
        from ..checkout.sessions import check_session_id
        from .ratelimit import CHECKOUT

        settings = services.settings
        await limit_first(request, CHECKOUT)  # the session read is the client's choice, and not cached
        data, from_form = await read_purchase(request, CHECKOUT_BODY_LIMIT)
        session_id = check_session_id(data.get("session_id") if isinstance(data.get("session_id"), str) else None)
        site = settings.require("site_url")
        url = await blocking(portal_url, services.gateway, session_id, site)
        # The portal's URL signs its holder in as the customer: like a login link, never cached.
        headers = {"Cache-Control": "no-store", **cors_headers(request, settings)}
        if from_form:
            return RedirectResponse(url, status_code=303, headers=headers)
        return JSONResponse({"url": url}, headers=headers)

    async def config(request: Request) -> Response:
        """What the pages may know: the publishable key embedded Checkout needs (public by design)."""
        settings = services.settings
        key = settings.require("stripe_publishable_key")
        # Cacheable: every API answer varies by Origin (`cors.VaryOnOrigin`), so no cache mixes them up.
        return JSONResponse({"publishableKey": key}, headers={"Cache-Control": "public, max-age=300",
                                                             **cors_headers(request, settings)})

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
                                 lease_seconds=settings.event_lease_seconds,
                                 restock_on_refund=services.checkout_options.restock_on_refund)
        # The correlation id goes with each line, not into the logger's shared keys: a Vercel or
        # local process serves requests concurrently, and they would overwrite each other's.
        telemetry.logger().info("webhook handled", extra={
            "correlation_id": event["id"], "event_type": event["type"], "outcome": outcome})
        return JSONResponse({"received": True, "outcome": outcome})

    async def stock(request: Request) -> Response:
        """What is left of each price a page names; unlimited is null. Cacheable for as long as it may be stale."""
        from ..checkout.stock import PAGE_TTL_SECONDS, parse_stock_query, stock_levels

        settings = services.settings
        refs = parse_stock_query(request.query_params.getlist("priceId"))
        settings.require("stripe_secret_key")
        levels = await run_in_threadpool(stock_levels, services.catalog, services.stock_view, services.store, refs)
        # Cacheable as long as it may be stale; `cors.VaryOnOrigin` adds `Vary: Origin`.
        headers = {"Cache-Control": f"public, max-age={int(PAGE_TTL_SECONDS)}", **cors_headers(request, settings)}
        return JSONResponse({"stock": levels}, headers=headers)

    async def release_stale(request: Request) -> Response:
        """Vercel Cron's call (`vercel.json`), with the project's CRON_SECRET as its bearer token; nobody else's."""
        from ..checkout.stale import release_stale as run

        settings = services.settings
        expected = settings.cron_secret
        given = request.headers.get("authorization", "")
        if expected is None or not hmac.compare_digest(given.encode(), f"Bearer {expected.reveal()}".encode()):
            raise Unauthorized("This route is for the deployment's scheduler only.")
        settings.require("stripe_secret_key")
        report = await run_in_threadpool(run, services.store, services.gateway)
        telemetry.logger().info("release-stale", extra=report.counts())
        return JSONResponse(report.counts(), headers={"Cache-Control": "no-store"})

    async def health(request: Request) -> Response:
        from ..settings import _KNOWN, Settings

        body: dict[str, Any] = {"status": "ok", "version": __version__}
        problems: list[str] = []
        try:
            settings = services.settings
        except Misconfigured as exc:
            problems, settings = exc.message.split("; "), Settings(present=())
        else:
            try:
                _ = services.checkout_options  # reads checkout.toml, as the first checkout would
            except Misconfigured as exc:
                problems.append(exc.message)
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
        headers = cors_headers(request, services.settings)
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
        Route(paths.STOCK, stock, methods=["GET"]),
        Route(paths.RELEASE_STALE, release_stale, methods=["GET"]),
    ]
    if static_dir is not None:
        from .pages import pages_app

        # Under /api the API answers alone, as deployed, where no files share its paths: a wrong method is a
        # JSON 405 with Allow, an unknown path a JSON 404, never the static 404 page.
        api_alone = Router(routes=list(routes))
        routes += [Route("/api", api_alone), Route("/api/{path:path}", api_alone),
                   Mount("/", app=pages_app(static_dir, services.settings.stripe_api_base))]

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        status = status_of(exc)
        if status >= 500:
            telemetry.logger().warning("request failed", extra={"path": request.url.path, "code": exc.code})
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=status,
                            headers=headers_of(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, Code.HTTP_ERROR)
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Never a traceback or an exception's text in a response: it could quote a payload.
        telemetry.logger().exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(error_body(Code.INTERNAL_ERROR, "Something went wrong; please retry."), status_code=500)

    middleware = [Middleware(FlushMetrics), Middleware(VaryOnOrigin)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={
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
