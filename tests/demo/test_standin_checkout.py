"""The stand-in's Checkout page buttons, its webhook deliveries, and what follows a checkout (expiry,
refunds): what the demo shows, driven as a browser and the `stripe` package would drive them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from shared.errors import InvalidSignature
from shared.events.signature import verify
from shared.settings import Secret

ENDPOINT_SECRET = "whsec_standin_endpoint_secret"



class Receiver:
    """A webhook endpoint on loopback: records each delivery, answers the scripted statuses, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[bytes, str]] = []  # (body, Stripe-Signature)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers["Stripe-Signature"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/webhook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.server.shutdown()
        r.server.server_close()


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def hosted(stripe_client: stripe.StripeClient, price: str, **extra: Any) -> Any:
    params: Any = {
        "mode": "payment", "line_items": [{"price": price, "quantity": 2}],
        "success_url": "https://shop.example/success.html?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel.html", **extra}
    return stripe_client.v1.checkout.sessions.create(params=params)


def press(url: str, action: str, **form: str) -> httpx.Response:
    return httpx.post(url, data={"action": action, **form}, follow_redirects=False)


# --- the page ---


def test_the_page_shows_the_lines_the_total_and_every_choice(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price(unit_amount=1250, product_name="Mug")["id"])

    page = httpx.get(session.url).text

    assert "<td>Mug</td><td class=num>2</td><td class=num>25.00 USD</td>" in page
    assert 'id="standin-amount">25.00 USD<' in page
    for button in ("standin-pay", "standin-bank-transfer", "standin-decline"):
        assert f'id="{button}"' in page
    assert 'id="standin-cancel" class="cancel" href="https://shop.example/cancel.html"' in page
    assert "Demo — no real payments." in page


def test_pay_completes_paid_with_the_buyers_email_and_redirects_with_the_session_id(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price()["id"])

    answer = press(session.url, "pay", email="ada@example.com")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"https://shop.example/success.html?session_id={session.id}"
    stored = fresh_standin.sessions[session.id]
    assert (stored["status"], stored["payment_status"]) == ("complete", "paid")
    assert stored["customer_details"]["email"] == "ada@example.com"
    assert [e.type for e in stripe_client.v1.events.list().data] == ["checkout.session.completed"]
    assert press(session.url, "pay").status_code == 303  # a second click changes nothing
    assert len(stripe_client.v1.events.list().data) == 1


def test_bank_transfer_completes_unpaid_then_the_payment_arrives(fresh_standin, stripe_client):
    fresh_standin.async_payment_delay = 0.2
    session = hosted(stripe_client, fresh_standin.add_price()["id"])

    assert press(session.url, "bank_transfer").status_code == 303

    assert fresh_standin.sessions[session.id]["payment_status"] == "unpaid"
    completed = stripe_client.v1.events.list().data[0]
    assert completed.type == "checkout.session.completed"
    assert completed.data.object["payment_status"] == "unpaid"
    wait_until(lambda: fresh_standin.sessions[session.id]["payment_status"] == "paid")
    newest = stripe_client.v1.events.list().data[0]
    assert newest.type == "checkout.session.async_payment_succeeded"
    assert newest.data.object["payment_status"] == "paid"


def test_decline_stays_on_the_page_with_the_message_and_the_session_open(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price()["id"])

    answer = press(session.url, "decline")

    assert answer.status_code == 200
    assert 'id="standin-message" class="alert" role="alert">Your card was declined.' in answer.text
    assert fresh_standin.sessions[session.id]["status"] == "open"
    assert stripe_client.v1.events.list().data == []


def test_an_expired_session_offers_nothing_to_press(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price()["id"])
    stripe_client.v1.checkout.sessions.expire(session.id)

    answer = press(session.url, "pay")

    assert answer.status_code == 200 and "This checkout has expired" in answer.text
    assert 'id="standin-pay"' not in answer.text
    assert fresh_standin.sessions[session.id]["status"] == "expired"


def test_embedded_page_is_found_by_client_secret_and_completing_leaves_the_frame(fresh_standin, stripe_client):
    session = stripe_client.v1.checkout.sessions.create(params={
        "mode": "payment", "ui_mode": "embedded_page", "line_items": [{"price": fresh_standin.add_price()["id"],
                                                                       "quantity": 1}],
        "return_url": "https://shop.example/success.html?session_id={CHECKOUT_SESSION_ID}"})
    page_url = f"{fresh_standin.url}/c/embedded/{session.client_secret}"

    page = httpx.get(page_url).text
    answer = press(page_url, "pay")

    assert 'value="pay" formtarget="_top"' in page and 'value="decline" class="secondary" formnovalidate>' in page
    assert "standin-cancel" not in page  # embedded Checkout has no cancel_url
    assert answer.headers["location"] == f"https://shop.example/success.html?session_id={session.id}"
    assert httpx.get(f"{fresh_standin.url}/c/embedded/{session.id}_secret_wrong").status_code == 404


# --- webhooks ---


def test_events_reach_the_endpoint_signed_with_its_secret(fresh_standin, stripe_client, receiver):
    endpoint = receiver()
    fresh_standin.add_webhook_endpoint(url=endpoint.url, enabled_events=["checkout.session.completed"],
                                 secret=ENDPOINT_SECRET)
    fresh_standin.deliver_webhooks()
    session = hosted(stripe_client, fresh_standin.add_price()["id"])

    press(session.url, "pay")
    stripe_client.v1.checkout.sessions.expire(hosted(stripe_client,
                                                     fresh_standin.add_price()["id"]).id)  # not wanted: not sent

    wait_until(lambda: len(endpoint.received) == 1)
    (body, signature), = endpoint.received
    verify(body, signature, [Secret(ENDPOINT_SECRET)])
    with pytest.raises(InvalidSignature):
        verify(body, signature, [Secret("whsec_some_other_secret")])
    assert endpoint.events()[0]["data"]["object"]["id"] == session.id
    time.sleep(0.2)
    assert len(endpoint.received) == 1


def test_a_failing_endpoint_is_retried_until_it_answers_2xx(fresh_standin, stripe_client, receiver):
    endpoint = receiver(500, 503)
    fresh_standin.add_webhook_endpoint(url=endpoint.url, secret=ENDPOINT_SECRET)
    failures: list[tuple[int, float | None]] = []
    deliveries = fresh_standin.deliver_webhooks(retry_delays=(0.05, 0.05, 0.05),
                                          report=lambda attempt, delay: failures.append((attempt.status, delay)))

    press(hosted(stripe_client, fresh_standin.add_price()["id"]).url, "pay")

    wait_until(lambda: len(deliveries.attempts) == 3)  # recorded once answered, after the endpoint saw it
    assert [a.status for a in deliveries.attempts] == [500, 503, 200] and len(endpoint.received) == 3
    assert failures == [(500, 0.05), (503, 0.05)]
    ids = {event["id"] for event in endpoint.events()}
    assert len(ids) == 1  # the same event, each time newly signed


def test_retries_are_bounded(fresh_standin, stripe_client, receiver):
    endpoint = receiver(*[500] * 10)
    fresh_standin.add_webhook_endpoint(url=endpoint.url, secret=ENDPOINT_SECRET)
    failures: list[float | None] = []
    fresh_standin.deliver_webhooks(retry_delays=(0.02, 0.02), report=lambda attempt, delay: failures.append(delay))

    press(hosted(stripe_client, fresh_standin.add_price()["id"]).url, "pay")

    wait_until(lambda: failures[-1:] == [None])
    time.sleep(0.1)
    assert len(endpoint.received) == 3 and failures == [0.02, 0.02, None]


def test_without_delivery_turned_on_nothing_is_sent(fresh_standin, stripe_client, receiver):
    endpoint = receiver()
    fresh_standin.add_webhook_endpoint(url=endpoint.url)

    press(hosted(stripe_client, fresh_standin.add_price()["id"]).url, "pay")

    time.sleep(0.2)
    assert endpoint.received == []


# --- after checkout ---


def test_expire_ends_an_open_session_once(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price()["id"])

    expired = stripe_client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    assert [e.type for e in stripe_client.v1.events.list().data] == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError, match='status in \\["open"\\]'):
        stripe_client.v1.checkout.sessions.expire(session.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.checkout.sessions.expire("cs_test_missing")
    assert missing.value.http_status == 404


def test_sessions_are_listed_newest_first_and_filtered_by_creation_and_status(fresh_standin, stripe_client):
    price = fresh_standin.add_price()["id"]
    made = [hosted(stripe_client, price, metadata={"n": str(n)}) for n in range(3)]
    stripe_client.v1.checkout.sessions.expire(made[1].id)
    created = made[0].created
    listed = stripe_client.v1.checkout.sessions.list(params={"created": {"gte": created - 1, "lte": created + 60},
                                                             "limit": 2})
    assert [s.metadata["n"] for s in listed.auto_paging_iter()] == ["2", "1", "0"]
    assert listed.has_more
    open_ones = stripe_client.v1.checkout.sessions.list(params={"status": "open"})
    assert [s.id for s in open_ones.data] == [made[2].id, made[0].id]
    assert stripe_client.v1.checkout.sessions.list(params={"created": {"gt": created + 3600}}).data == []


def test_refunds_add_up_on_the_charge_and_never_exceed_it(fresh_standin, stripe_client):
    session = hosted(stripe_client, fresh_standin.add_price(unit_amount=1500)["id"])
    press(session.url, "pay")
    intent = fresh_standin.sessions[session.id]["payment_intent"]

    first = stripe_client.v1.refunds.create(params={"payment_intent": intent, "amount": 500})
    with pytest.raises(stripe.InvalidRequestError, match=r"\(30.00 USD\) is greater .* \(25.00 USD\)"):
        stripe_client.v1.refunds.create(params={"payment_intent": intent, "amount": 3000})
    rest = stripe_client.v1.refunds.create(params={"payment_intent": intent})

    assert (first.amount, rest.amount, rest.payment_intent) == (500, 2500, intent)
    refunded = [e.data.object for e in stripe_client.v1.events.list(params={"type": "charge.refunded"}).data]
    assert [(c["amount_refunded"], c["refunded"]) for c in refunded] == [(3000, True), (500, False)]
    assert {c["payment_intent"] for c in refunded} == {intent} and refunded[0]["amount"] == 3000
    with pytest.raises(stripe.InvalidRequestError, match="greater"):
        stripe_client.v1.refunds.create(params={"payment_intent": intent, "amount": 1})


def test_an_unpaid_session_has_nothing_to_refund(fresh_standin, stripe_client):
    fresh_standin.async_payment_delay = 60
    session = hosted(stripe_client, fresh_standin.add_price()["id"])
    press(session.url, "bank_transfer")

    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        stripe_client.v1.refunds.create(params={"payment_intent": fresh_standin.sessions[session.id]["payment_intent"]})
    with pytest.raises(stripe.InvalidRequestError, match="either a charge or a payment_intent"):
        stripe_client.v1.refunds.create(params={"amount": 100})
