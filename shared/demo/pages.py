"""The pages in demo mode, around the app: the store page made from the demo catalog in place of
`public/index.html`, a "Demo — no real payments" banner written into every page (so it shows with
JavaScript off), and a stand-in for Stripe.js.

Stripe.js comes from js.stripe.com, which a machine without a network (or without an account) cannot
use, and embedded Checkout needs it. The page script uses `window.Stripe` when it is already there, so
every demo page loads `/_demo/stripe.js` first: its `createEmbeddedCheckoutPage` mounts the stand-in's
Checkout page in a frame, as Stripe.js mounts Stripe's. The API (`/api/…`) passes through untouched.
"""

from __future__ import annotations

import json
import re
from typing import Any

ASSETS = "/_demo/"
BANNER = ('<div class="demo-banner" id="demo-banner" role="note"><strong>Demo — no real payments.</strong> '
          "Checkout, payments and webhooks all run on this computer, against a Stripe stand-in.</div>")
HEAD = f'<link rel="stylesheet" href="{ASSETS}demo.css"><script src="{ASSETS}stripe.js"></script>'
STORE_PAGES = ("/", "/index.html")
# Dropped from page requests and answers: a browser must not keep a page from before demo mode (no
# banner) or reuse a demo page (with it) once the demo stops.
_CONDITIONAL = (b"if-none-match", b"if-modified-since")
_VALIDATORS = (b"etag", b"last-modified", b"content-length", b"cache-control")

CSS = """.demo-banner{padding:.6rem 1rem;background:#fffaeb;color:#7a2e0e;border-bottom:1px solid #fedf89;
text-align:center;font:500 .95rem/1.4 system-ui,sans-serif}
.demo-embedded-checkout{display:block;width:100%;min-height:38rem;border:0;border-radius:14px;background:#fff}
"""

STRIPE_JS = """/* The demo's stand-in for Stripe.js: embedded Checkout shows the local stand-in's page in a frame. */
(function () {
  'use strict';
  var CHECKOUT = %s;
  function embedded(options) {
    return Promise.resolve(options.fetchClientSecret()).then(function (secret) {
      var frame = null;
      function remove() { if (frame && frame.parentNode) frame.parentNode.removeChild(frame); }
      return {
        mount: function (target) {
          var box = typeof target === 'string' ? document.querySelector(target) : target;
          frame = document.createElement('iframe');
          frame.src = CHECKOUT + '/c/embedded/' + encodeURIComponent(secret);
          frame.title = 'Checkout (demo)';
          frame.className = 'demo-embedded-checkout';
          box.textContent = '';
          box.appendChild(frame);
        },
        unmount: remove,
        destroy: function () { remove(); frame = null; }
      };
    });
  }
  window.Stripe = function () {
    return { createEmbeddedCheckoutPage: embedded, initEmbeddedCheckout: embedded };
  };
})();
"""


def with_banner(page: str) -> str:
    """The page with the demo's stylesheet and Stripe.js stand-in in its head and the banner atop its body."""
    head = page.lower().find("</head>")
    if head >= 0:
        page = page[:head] + HEAD + page[head:]
    body = re.search(r"<body\b[^>]*>", page, re.IGNORECASE)
    at = body.end() if body else 0
    return page[:at] + BANNER + page[at:]


class DemoPages:
    """ASGI middleware: the app, with its pages as the demo shows them."""

    def __init__(self, app: Any, *, store_page: str, checkout_origin: str) -> None:
        self.app = app
        self.store_page = store_page
        self.assets = {
            f"{ASSETS}demo.css": (CSS.encode(), b"text/css; charset=utf-8"),
            f"{ASSETS}stripe.js": ((STRIPE_JS % json.dumps(checkout_origin)).encode(),
                                   b"text/javascript; charset=utf-8"),
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/api" or path.startswith("/api/") or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if path in self.assets:
            body, content_type = self.assets[path]
            await _answer(send, 200, body, [(b"content-type", content_type), (b"cache-control", b"no-store")])
            return
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _CONDITIONAL]
        await self.app({**scope, "headers": headers}, receive, _PageWriter(send, self._rewrite(path)))

    def _rewrite(self, path: str) -> Any:
        def rewrite(status: int, page: str) -> str:
            return with_banner(self.store_page if status == 200 and path in STORE_PAGES else page)
        return rewrite


class _PageWriter:
    """Passes an answer through, except an HTML page: held until complete, rewritten, then sent."""

    def __init__(self, send: Any, rewrite: Any) -> None:
        self.send = send
        self.rewrite = rewrite
        self.start: dict[str, Any] | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            content_type = dict(message.get("headers", [])).get(b"content-type", b"")
            if content_type.startswith(b"text/html"):
                self.start = message
                return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        status = self.start["status"]
        page = self.rewrite(status, b"".join(self.chunks).decode("utf-8")).encode()
        headers = [(k, v) for k, v in self.start.get("headers", []) if k.lower() not in _VALIDATORS]
        await _answer(self.send, status, page, headers + [(b"cache-control", b"no-store")])


async def _answer(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
