"""The `stripe` package's HTTP client, on urllib3: Stripe calls without `requests`.

botocore already imports urllib3 on every cold start that reaches Stripe (the rate limiter's and the stock
read's DynamoDB client), so a client on urllib3 costs no import of its own, where `requests` (with
charset_normalizer and idna) cost ~33 ms of each cold create-session. But `stripe._http_client` imports
`requests` at its own import, whenever it is installed, to pick a default client we never use; and stripe
requires it, so it is installed. This module is therefore where `stripe` is first imported (stripe_api.py
imports `stripe` from here): with `requests` made unimportable for that one import, as `sys.modules` allows.
Stripe then picks its urllib default, which we replace with `Urllib3Client` anyway.

One PoolManager per client keeps connections alive across warm requests: a Stripe call after the first
makes no new TLS handshake. urllib3's pool is thread-safe, so one client serves the cart's concurrent price
look-ups and `serve`'s threads.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, NoReturn


def _import_stripe_without_requests() -> None:
    if "stripe" in sys.modules or "requests" in sys.modules:
        return  # already imported (a test, the bench, the seller's own code): nothing left to save
    sys.modules["requests"] = None  # type: ignore[assignment]  # `import requests` raises ImportError
    try:
        import stripe  # noqa: F401
    finally:
        # Only this import is spared requests: whoever imports it later (a test's tools) gets it.
        if sys.modules.get("requests", 0) is None:
            del sys.modules["requests"]


_import_stripe_without_requests()

import stripe  # noqa: E402
import urllib3  # noqa: E402
from urllib3.exceptions import HTTPError, ProtocolError, ProxyError, SSLError, TimeoutError  # noqa: E402

from .stripe_api import scrub  # noqa: E402

# Concurrent requests one client keeps a connection for, per host: the cart's price look-ups (8 at once)
# with room for `serve`'s threads. More at once still work, on connections closed after use.
_CONNECTIONS = 16

# The request's own failures Stripe could answer on a second try (what stripe's RequestsClient retries:
# timeouts and connection errors). A TLS failure is not among them: it will fail the same way again.
_TRANSIENT = (TimeoutError, ProtocolError, ProxyError)  # NewConnectionError is a ConnectTimeoutError

_MESSAGE = "Could not reach Stripe"


class Urllib3Client(stripe.HTTPClient):
    """`stripe.HTTPClient` on one urllib3 PoolManager: `timeout` bounds the connect and each read (as
    RequestsClient's single timeout did), no retries (a retried click carries the same idempotency key), no
    redirects. TLS is verified against `stripe.ca_bundle_path` unless `verify_ssl_certs=False`. A proxy is
    the `proxy` argument, else the environment's (HTTPS_PROXY, NO_PROXY…, as requests read them); an http(s)
    proxy only: a SOCKS one raises at construction."""

    name = "urllib3"

    def __init__(self, timeout: float = 80, *, verify_ssl_certs: bool = True,
                 proxy: str | stripe.HTTPClient._Proxy | None = None) -> None:
        super().__init__(verify_ssl_certs=verify_ssl_certs, proxy=proxy)
        tls: dict[str, Any] = ({"cert_reqs": "CERT_REQUIRED", "ca_certs": stripe.ca_bundle_path}
                               if verify_ssl_certs else {"cert_reqs": "CERT_NONE"})
        self._options: dict[str, Any] = dict(
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False, maxsize=_CONNECTIONS, **tls)
        self._direct = urllib3.PoolManager(**self._options)
        self._proxies, self._from_environment = self._proxy_urls()
        self._via = {url: urllib3.ProxyManager(url, **self._options) for url in set(self._proxies.values())}

    def _proxy_urls(self) -> tuple[dict[str, str], bool]:
        """Scheme → proxy URL: the `proxy` argument's, else the environment's (read once, as settings are)."""
        if self._proxy:
            given = {"http": self._proxy.get("http"), "https": self._proxy.get("https")}
            return {scheme: url for scheme, url in given.items() if url}, False
        from urllib.request import getproxies  # botocore imported it already

        found = getproxies()
        return {scheme: found.get(scheme) or found["all"] for scheme in ("http", "https")
                if found.get(scheme) or found.get("all")}, True

    def _manager(self, url: str) -> urllib3.PoolManager:
        if not self._proxies:
            return self._direct
        from urllib.parse import urlsplit
        from urllib.request import proxy_bypass

        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if proxy is None or (self._from_environment and proxy_bypass(parts.hostname or "")):
            return self._direct
        return self._via[proxy]

    # The body is bytes, as stripe's RequestsClient returns it (the base class says `str`; stripe decodes both).
    def request(  # type: ignore[override]
            self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
            _usage: list[str] | None = None) -> tuple[bytes, int, Mapping[str, str]]:
        response = self._send(method, url, headers, post_data, preload=True)
        return response.data, response.status, response.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
                       _usage: list[str] | None = None) -> tuple[Any, int, Mapping[str, str]]:
        # The response is a readable file object; its connection goes back to the pool once read. (We make
        # no streaming call; stripe uses this for binary downloads such as quote PDFs.)
        response = self._send(method, url, headers, post_data, preload=False)
        return response, response.status, response.headers

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any, *,
              preload: bool) -> urllib3.BaseHTTPResponse:
        body = post_data.encode("utf-8") if isinstance(post_data, str) else post_data
        # Compressed answers, as requests asked for them (urllib3 decodes them).
        sent = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        try:
            return self._manager(url).request(method.upper(), url, body=body, headers=sent, redirect=False,
                                              preload_content=preload)
        except Exception as exc:  # every failure of the exchange is the caller's APIConnectionError
            _connection_error(exc)

    def close(self) -> None:
        self._direct.clear()
        for manager in self._via.values():
            manager.clear()


def _connection_error(exc: Exception) -> NoReturn:
    # The text names the failure and its host, never the request: its headers hold the secret key.
    reason = scrub(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, SSLError):
        raise stripe.APIConnectionError(f"{_MESSAGE}: its TLS certificate could not be verified ({reason}).",
                                        should_retry=False) from exc
    if isinstance(exc, _TRANSIENT):
        raise stripe.APIConnectionError(f"{_MESSAGE} ({reason}).", should_retry=True) from exc
    if isinstance(exc, HTTPError):
        raise stripe.APIConnectionError(f"{_MESSAGE}: the exchange failed ({reason}).", should_retry=False) from exc
    raise stripe.APIConnectionError(f"{_MESSAGE}: the request could not be made ({reason}).",
                                    should_retry=False) from exc
