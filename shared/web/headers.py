"""Security headers for the pages, in one place: the local server sends them, and the tests check
that `vercel.json` and `netlify.toml` declare the same ones."""

from __future__ import annotations

from urllib.parse import urlsplit

CHECKOUT_ORIGIN = "https://checkout.stripe.com"
PORTAL_ORIGIN = "https://billing.stripe.com"


def content_security_policy(checkout_origin: str = CHECKOUT_ORIGIN) -> str:
    # The pages load their own scripts, styles and images and call their own /api/…; forms post to
    # our API, which redirects to Checkout or the customer portal (the browser applies form-action
    # to that redirect too). Stripe.js, loaded only for embedded Checkout, gets what Stripe's
    # security guide lists for it: its script, its frames, and its API.
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' https://js.stripe.com https://*.js.stripe.com",
        "style-src 'self'",
        "img-src 'self' data: https://*.stripe.com",
        "connect-src 'self' https://api.stripe.com https://checkout.stripe.com",
        f"frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com {checkout_origin}",
        f"form-action 'self' {checkout_origin} {PORTAL_ORIGIN}",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ])


CONTENT_SECURITY_POLICY = content_security_policy()

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(self \"https://checkout.stripe.com\")",
}


def page_headers(stripe_api_base: str | None = None) -> dict[str, str]:
    """The headers for a page; a local Stripe stand-in serves its own checkout pages (and frames them)."""
    if not stripe_api_base:
        return PAGE_HEADERS
    parts = urlsplit(stripe_api_base)
    return {**PAGE_HEADERS, "Content-Security-Policy": content_security_policy(f"{parts.scheme}://{parts.netloc}")}
