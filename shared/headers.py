"""Security headers for the pages, in one place: the local server sends them, and the tests check
that `vercel.json` and `netlify.toml` declare the same ones."""

from __future__ import annotations

from urllib.parse import urlsplit

CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def content_security_policy(checkout_origin: str = CHECKOUT_ORIGIN) -> str:
    # The pages load only their own scripts, styles and images and call only their own /api/…;
    # forms post to our API, which redirects to Checkout (the browser applies form-action to that
    # redirect too, so Checkout's origin must be listed).
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        f"form-action 'self' {checkout_origin}",
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
    """The headers for a page; a local Stripe stand-in serves its own checkout pages."""
    if not stripe_api_base:
        return PAGE_HEADERS
    parts = urlsplit(stripe_api_base)
    return {**PAGE_HEADERS, "Content-Security-Policy": content_security_policy(f"{parts.scheme}://{parts.netloc}")}
