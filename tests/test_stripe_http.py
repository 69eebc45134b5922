"""Stripe calls on urllib3 (shared/checkout/stripe_http.py), over real HTTP to the stand-in: one kept-alive
connection across calls, a slow or absent Stripe answered 502 within the timeout, errors that never quote the
secret key, and proxies as requests honoured them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import stripe

from shared.checkout.stripe_api import API_VERSION, StripeGateway
from shared.checkout.stripe_http import Urllib3Client
from shared.errors import UpstreamError
from shared.settings import Settings
from tests.apiclient import error, make_client
from tests.conftest import SECRET_KEY


class Relay:
    """A TCP relay to the stand-in that counts the connections made to it. Pointed at as Stripe's address it
    sees each connection the client opens; named as an HTTP proxy it carries the proxied requests too (the
    stand-in reads the path of the absolute URL a proxy request names)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            upstream = socket.create_connection(self.target)
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the other side went away first

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def relay(standin) -> Iterator[Relay]:
    host, port = standin.url.removeprefix("http://").split(":")
    relay = Relay((host, int(port)))
    yield relay
    relay.close()


@pytest.fixture
def refused_url() -> str:
    """An address where nothing listens: the port was just free, and is closed again."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def gateway(api_env: dict[str, str], **env: str) -> StripeGateway:
    return StripeGateway(Settings.from_env({**api_env, **env}))


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_warm_create_sessions_reuse_one_connection_to_stripe(api_env, dynamo_store, relay, catalog):
    client = make_client(dict(api_env, STRIPE_API_BASE=relay.url, RATE_LIMIT="off"), dynamo_store)
    for quantity in (1, 2, 3, 4):
        response = client.post("/api/create-checkout-session",
                               json={"priceId": catalog["tshirt"]["id"], "quantity": quantity})
        assert response.status_code == 200, response.text
    # A price look-up and four creates: five calls, one TCP connection (and so one TLS handshake at Stripe).
    assert relay.accepted == 1


def test_a_slow_stripe_answers_502_in_time_and_the_next_call_reads_its_own_answer(api_env, dynamo_store, standin,
                                                                                   catalog):
    paid = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}).v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": catalog["tshirt"]["id"], "quantity": 1}],
        "success_url": "https://shop.example.com/success.html", "cancel_url": "https://shop.example.com/"}).id
    client = make_client(dict(api_env, STRIPE_TIMEOUT="0.3", RATE_LIMIT="off"), dynamo_store)
    standin.fail_next(1, status=0, delay=1.0)
    started = time.monotonic()
    response = client.get("/api/checkout-session", params={"session_id": paid})
    assert time.monotonic() - started < 0.8
    error(response, 502, "stripe_error")
    assert "in time" in response.json()["error"]["message"]
    time.sleep(0.8)  # the late answer arrives on the abandoned connection, which must not be read again
    response = client.get("/api/checkout-session", params={"session_id": paid})
    assert response.status_code == 200, response.text


def test_stripe_unreachable_answers_502_at_once(api_env, dynamo_store, catalog, refused_url):
    client = make_client(dict(api_env, STRIPE_API_BASE=refused_url, RATE_LIMIT="off"), dynamo_store)
    started = time.monotonic()
    response = client.post("/api/create-checkout-session", json={"priceId": catalog["tshirt"]["id"]})
    assert time.monotonic() - started < 1.0
    error(response, 502, "stripe_error")
    assert "in time" in response.json()["error"]["message"]


def test_connection_errors_may_be_retried_and_never_quote_the_secret_key(api_env, standin, catalog, refused_url):
    for failing, env in (("refused", {"STRIPE_API_BASE": refused_url}), ("timeout", {"STRIPE_TIMEOUT": "0.2"})):
        if failing == "timeout":
            standin.fail_next(1, status=0, delay=0.6)
        with pytest.raises(UpstreamError) as raised:
            gateway(api_env, **env).retrieve_price(catalog["tshirt"]["id"])
        causes = list(chain(raised.value))
        connection = next(c for c in causes if isinstance(c, stripe.APIConnectionError))
        assert connection.should_retry, failing
        for cause in causes:
            assert SECRET_KEY not in str(cause) and SECRET_KEY not in repr(cause), failing
            assert "sk_test" not in str(cause), failing


def test_a_tls_failure_is_not_retried(standin):
    # TLS spoken to the stand-in's plain HTTP port: the handshake fails, as against an intercepting proxy.
    client = Urllib3Client(timeout=2)
    with pytest.raises(stripe.APIConnectionError) as raised:
        client.request("get", standin.url.replace("http://", "https://") + "/v1/prices",
                       {"Authorization": f"Bearer {SECRET_KEY}"})
    assert raised.value.should_retry is False
    assert "TLS" in str(raised.value) and SECRET_KEY not in str(raised.value)


def test_answers_carry_their_bytes_status_and_headers_by_any_case(standin, catalog):
    client = Urllib3Client(timeout=2)
    headers = {"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Version": API_VERSION}
    body, status, answered = client.request("get", f"{standin.url}/v1/prices/{catalog['tshirt']['id']}", headers)
    assert status == 200 and json.loads(body)["id"] == catalog["tshirt"]["id"]
    assert answered["content-type"] == answered["Content-Type"] and "json" in answered["CONTENT-TYPE"]
    stream, status, _ = client.request_stream("get", f"{standin.url}/v1/prices/{catalog['tshirt']['id']}", headers)
    assert status == 200 and json.loads(stream.read())["id"] == catalog["tshirt"]["id"]
    _, status, _ = client.request("get", f"{standin.url}/v1/prices/price_missing123", headers)
    assert status == 404  # an answer, for stripe to read: not a connection error
    client.close()


def test_the_proxy_argument_carries_the_calls(standin, catalog, relay):
    through = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}, stripe_version=API_VERSION,
                                  http_client=Urllib3Client(timeout=2, proxy=relay.url))
    assert through.v1.prices.retrieve(catalog["tshirt"]["id"]).id == catalog["tshirt"]["id"]
    assert through.v1.prices.retrieve(catalog["poster"]["id"]).id == catalog["poster"]["id"]
    assert relay.accepted == 1


def test_the_environments_proxy_is_honoured_unless_no_proxy_names_the_host(api_env, catalog, relay, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", relay.url)
    gateway(api_env).retrieve_price(catalog["tshirt"]["id"])
    assert relay.accepted == 1
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    gateway(api_env).retrieve_price(catalog["tshirt"]["id"])
    assert relay.accepted == 1  # straight to the stand-in
