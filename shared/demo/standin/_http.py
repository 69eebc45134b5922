"""HTTP plumbing: turn socket requests into stand-in calls, and serve the Checkout page
(`_checkout_page`) and the customer portal page."""

from __future__ import annotations

import html
import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import stripe

from . import _checkout_page
from ._api import unrecognized
from ._objects import new_id
from ._store import JSON

if TYPE_CHECKING:
    from .server import _Server

_PORTAL = "/p/session/"
_FORWARDED_HEADERS = ("Authorization", "Idempotency-Key", "Stripe-Version")


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the stripe client's pooled connections expect; every answer has a length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, each keep-alive answer waits ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        # Silent: a line per request drowns test output, and headers must never reach a log.
        pass

    def _dispatch(self, method: str) -> None:
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if target.path.startswith((_checkout_page.HOSTED, _checkout_page.EMBEDDED)):
            self._checkout_page(method, target.path, body)
            return
        if target.path.startswith(_PORTAL) and method == "GET":
            self._portal_page(target.path[len(_PORTAL) :])
            return
        if not target.path.startswith("/v1/"):
            # A browser's /favicon.ico and the like: not API calls, so not recorded, and they
            # must not use up a fault that fail_next() meant for the application.
            error = unrecognized(method, target.path)
            self._send(404, json.dumps(error.body()).encode(), "application/json")
            return
        headers = {name: self.headers.get(name) for name in _FORWARDED_HEADERS}
        # Stripe reads GET parameters from the query and POST parameters from the form body.
        encoded = body if method == "POST" else target.query
        status, payload, extra = self.server.standin.respond_api(
            method, target.path, encoded, headers, base_url=self.server.base_url
        )
        self._send(
            status,
            json.dumps(payload, indent=2).encode(),
            "application/json",
            {
                "Request-Id": new_id("req_", 14),
                "Stripe-Version": headers["Stripe-Version"] or stripe.api_version,
                **extra,
            },
        )

    def _checkout_page(self, method: str, path: str, body: str) -> None:
        standin = self.server.standin
        session = _checkout_page.find(standin, path)
        if session is None:
            self._send(404, b"No such checkout session", "text/plain; charset=utf-8")
            return
        status, page, location = _checkout_page.respond(standin, session, method, body)
        headers = {"Location": location} if location else {}
        self._send(status, page.encode(), "text/html; charset=utf-8", headers)

    def _portal_page(self, portal_session_id: str) -> None:
        standin = self.server.standin
        portal = standin.portal_sessions.get(portal_session_id)
        if portal is None:
            self._send(404, b"No such billing portal session", "text/plain; charset=utf-8")
            return
        customer = standin.customers[portal["customer"]]
        # list(): a snapshot, as API requests may add subscriptions meanwhile.
        everyone = list(standin.subscriptions.values())
        subscriptions = [s for s in everyone if s["customer"] == customer["id"]]
        page = _render_portal(portal, customer, subscriptions)
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:
            # The client gave up (a timeout test, usually); nobody is left to answer.
            self.close_connection = True


def _render_portal(portal: JSON, customer: JSON, subscriptions: list[JSON]) -> str:
    def text(value: object) -> str:
        return html.escape(str(value))

    rows = "".join(
        f'<li id="standin-subscription-{text(s["id"])}">{text(s["id"])}: '
        f'<span class="status">{text(s["status"])}</span>'
        f"{' (cancels at period end)' if s['cancel_at_period_end'] else ''}</li>"
        for s in subscriptions
    )
    back = portal["return_url"]
    back_link = f'<a id="standin-return" href="{text(back)}">Return</a>' if back else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Customer portal stand-in</title></head>
<body>
<h1 id="standin-portal">Customer portal for {text(customer["id"])}</h1>
<p id="standin-email">{text(customer["email"] or "")}</p>
<ul id="standin-subscriptions">{rows}</ul>
{back_link}
</body></html>
"""
