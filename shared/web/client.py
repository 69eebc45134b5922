"""Who is asking: the client's address as far as it can be trusted, and the bucket it is counted in.

The address is the connection's source (on Lambda, the function URL's `sourceIp`; on Vercel, the
adapter hands the app the `x-real-ip` Vercel's edge sets). A header naming another address
(`CLIENT_IP_HEADER`) is believed only on a request our own proxy proves it sent with `PROXY_SECRET`:
anyone can call a public function URL directly and put any value in any header.

A proxy proves itself in one of two ways:
- Netlify's signed proxy redirects (`Sign=…` on the rewrite): `X-Nf-Sign` is a JWS (HS256) over
  Netlify's claims, keyed with the secret, issued by `netlify` and expiring within minutes;
- a proxy that can add a request header (CloudFront's origin custom headers, nginx) sends the secret
  itself in `X-Static-Checkout-Proxy`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Mapping
from typing import Any

from .. import _json
from ..settings import Secret

NETLIFY_SIGNATURE = "x-nf-sign"
PROXY_SECRET_HEADER = "x-static-checkout-proxy"
_CLOCK_SKEW = 30  # seconds: Netlify's clock and ours need not agree to the second


def client_address(headers: Mapping[str, str], peer: str | None, *, ip_header: str | None,
                   proxy_secret: Secret | None, now: float | None = None) -> str:
    """The client's IP: the trusted proxy's header on a request it proved it sent, else the connection's."""
    if ip_header and proxy_secret is not None and from_our_proxy(headers, proxy_secret, now=now):
        # An append-style header (x-forwarded-for) ends with what the proxy nearest us appended; what a
        # client sent stands to its left.
        claimed = (headers.get(ip_header) or "").rsplit(",", 1)[-1].strip()
        if _is_ip(claimed):
            return claimed
    return peer or "unknown"


def from_our_proxy(headers: Mapping[str, str], secret: Secret, *, now: float | None = None) -> bool:
    key = secret.reveal().encode()
    shared = headers.get(PROXY_SECRET_HEADER)
    if shared is not None:
        return hmac.compare_digest(hashlib.sha256(shared.encode("utf-8", "replace")).digest(),
                                   hashlib.sha256(key).digest())
    token = headers.get(NETLIFY_SIGNATURE)
    return token is not None and netlify_signature_holds(token, key, time.time() if now is None else now)


def netlify_signature_holds(token: str, key: bytes, now: float) -> bool:
    """A JWS compact token, HS256 under `key`, issued by Netlify and not expired."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    if header is None or claims is None or header.get("alg") != "HS256":
        return False
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode("ascii", "replace"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64(parts[2]) or b""):
        return False
    expires = claims.get("exp")
    return (claims.get("iss") == "netlify" and isinstance(expires, int) and not isinstance(expires, bool)
            and now <= expires + _CLOCK_SKEW)


def bucket(address: str) -> str:
    """The unit a client is counted in: an IPv4 address, or an IPv6 /64 (one subscriber's whole prefix,
    which they can hop around in at will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _b64(part: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None


def _json_part(part: str) -> dict[str, Any] | None:
    raw = _b64(part)
    try:
        value = _json.loads(raw) if raw else None
    except ValueError:  # UnicodeDecodeError and too deep nesting included
        return None
    return value if isinstance(value, dict) else None
