"""Limited stock: the reservation's steps happen once whatever triggers them, the counts never lose a unit
or go below zero, and create-session, the events, `release-stale`, the page's endpoint and the seller's
commands each hold to that. Store rules run on the in-memory store and on DynamoDB over HTTP."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from shared.checkout.options import CheckoutOptions, expires_at, load, parse
from shared.checkout.stale import release_stale
from shared.checkout.stock import StockView
from shared.errors import Misconfigured
from shared.events.intake import process
from shared.orders import stock as counts
from shared.orders.fulfilment import Fulfiller
from shared.orders.reservations import (
    RESERVATION_METADATA_KEY,
    OutOfStock,
    attach,
    next_step,
    release,
    reserve,
    restock,
    sell,
)
from shared.settings import Settings
from shared.store.base import Put, Write
from shared.store.keys import reservation_key, stock_key
from shared.web.app import create_app
from shared.web.services import Services
from tests.apiclient import error
from tests.fakes import MemoryStore, make_charge, make_event, make_session, signed

NOW = 1_800_000_000
HOLD = NOW + 1860


def levels(store: Any, ref: str) -> tuple[int | None, int, int]:
    s = counts.current(store, ref)
    return s.available, s.held, s.sold


def limited(store: Any, **stock: int) -> None:
    for ref, n in stock.items():
        counts.set_available(store, ref, n)


# --- reserving: all lines or none ----------------------------------------------------------------------


def test_a_reservation_takes_every_limited_line_and_leaves_unlimited_ones_alone(store):
    limited(store, poster=5, mug=2)
    made = reserve(store, "r1", [("poster", 2), ("tshirt", 9), ("mug", 2)], hold_until=HOLD, now=NOW)
    assert made is not None and made.made_now and made.state == "held"
    assert made.lines == (("poster", 2), ("mug", 2))  # tshirt has no stock item: unlimited
    assert levels(store, "poster") == (3, 2, 0) and levels(store, "mug") == (0, 2, 0)
    assert counts.current(store, "tshirt").available is None


def test_one_short_line_reserves_nothing_and_says_which_line_and_how_many_are_left(store):
    limited(store, poster=5, mug=1)
    with pytest.raises(OutOfStock) as short:
        reserve(store, "r1", [("poster", 2), ("tshirt", 1), ("mug", 2)], hold_until=HOLD, now=NOW)
    assert (short.value.line, short.value.available, short.value.code) == (3, 1, "out_of_stock")
    assert short.value.message == "Only 1 left for line 3; lower the quantity to buy."
    assert levels(store, "poster") == (5, 0, 0) and levels(store, "mug") == (1, 0, 0)
    assert store.get(reservation_key("r1")) is None


def test_the_same_price_on_two_lines_is_counted_once(store):
    limited(store, poster=3)
    with pytest.raises(OutOfStock) as short:
        reserve(store, "r1", [("poster", 2), ("poster", 2)], hold_until=HOLD, now=NOW)
    assert short.value.line == 1 and short.value.available == 3


def test_a_shortage_found_only_by_the_transaction_still_names_the_line(store, monkeypatch):
    """Another buyer took the units between the read and the write: the condition catches it."""
    limited(store, poster=2, mug=2)
    real = store.get_many
    monkeypatch.setattr(store, "get_many", lambda keys: {**real(keys), stock_key("mug"): {
        "pk": stock_key("mug"), "ref": "mug", "limited": True, "available": 2}})
    counts.add_available(store, "mug", -1)
    with pytest.raises(OutOfStock) as short:
        reserve(store, "r1", [("poster", 1), ("mug", 2)], hold_until=HOLD, now=NOW)
    assert (short.value.line, short.value.available) == (2, 1)
    assert levels(store, "poster") == (2, 0, 0)


def test_nothing_limited_means_no_reservation(store):
    assert reserve(store, "r1", [("tshirt", 3)], hold_until=HOLD, now=NOW) is None
    assert store.get(reservation_key("r1")) is None


def test_a_retried_click_finds_its_reservation_and_takes_nothing_more(store):
    limited(store, poster=5)
    first = reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    again = reserve(store, "r1", [("poster", 2)], hold_until=HOLD + 600, now=NOW + 600)
    assert first is not None and again is not None and not again.made_now
    assert again.hold_until == HOLD  # the first click's window: Stripe gets the same parameters
    assert levels(store, "poster") == (3, 2, 0)


# --- each later step once ---------------------------------------------------------------------------------


def test_a_release_happens_once_however_often_it_is_asked(store):
    limited(store, poster=5)
    reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    assert [release(store, "r1", reason="expired", now=NOW) for _ in range(3)] == [True, False, False]
    assert levels(store, "poster") == (5, 0, 0)
    record = store.get(reservation_key("r1"))
    assert record["state"] == "released" and record["release_reason"] == "expired"
    assert record["expires_at"] > NOW  # kept a while for late news, then DynamoDB's TTL removes it


def test_sold_units_are_never_released(store):
    limited(store, poster=5)
    reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    assert sell(store, "r1", session_id="cs_1", now=NOW) and not sell(store, "r1", now=NOW)
    assert not release(store, "r1", reason="expired", now=NOW)
    assert levels(store, "poster") == (3, 0, 2)
    assert store.get(reservation_key("r1"))["session_id"] == "cs_1"


def test_a_payment_after_a_release_takes_its_units_back_when_they_are_still_on_sale(store):
    limited(store, poster=5)
    reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    release(store, "r1", reason="expired", now=NOW)
    assert sell(store, "r1", now=NOW)
    assert levels(store, "poster") == (3, 0, 2)
    assert store.get(reservation_key("r1"))["late"] is True


def test_a_payment_after_a_release_when_nothing_is_left_is_recorded_as_oversold_never_below_zero(store):
    limited(store, poster=2)
    reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    release(store, "r1", reason="expired", now=NOW)
    reserve(store, "r2", [("poster", 2)], hold_until=HOLD, now=NOW)  # someone else bought them meanwhile
    assert sell(store, "r1", now=NOW) and not sell(store, "r1", now=NOW)
    after = counts.current(store, "poster")
    assert (after.available, after.held, after.sold, after.oversold) == (0, 2, 2, 2)
    assert restock(store, "r1", now=NOW)  # refunded: the oversold units were never there to put back
    after = counts.current(store, "poster")
    assert (after.available, after.sold, after.oversold) == (0, 0, 0)


def test_restock_only_after_a_sale_and_once(store):
    limited(store, poster=3)
    reserve(store, "r1", [("poster", 1)], hold_until=HOLD, now=NOW)
    assert not restock(store, "r1", now=NOW)  # not sold yet
    sell(store, "r1", now=NOW)
    assert [restock(store, "r1", now=NOW) for _ in range(2)] == [True, False]
    assert levels(store, "poster") == (3, 0, 0)


def test_attach_records_the_session_of_a_held_reservation_only(store):
    limited(store, poster=3)
    reserve(store, "r1", [("poster", 1)], hold_until=HOLD, now=NOW)
    assert attach(store, "r1", "cs_a")
    assert store.get(reservation_key("r1"))["session_id"] == "cs_a"
    reserve(store, "r2", [("poster", 1)], hold_until=HOLD, now=NOW)
    release(store, "r2", reason="stripe_failed", now=NOW)
    assert not attach(store, "r2", "cs_b")  # released while Stripe answered: that session must not be paid


@pytest.mark.parametrize(("facts", "status", "restock_on_refund", "step"), [
    ({}, "open", True, None),
    ({"awaiting_payment": 1}, "awaiting_payment", False, None),
    ({"paid": 1}, "paid", False, "sell"),
    ({"expired": 1}, "expired", False, "release"),
    ({"payment_failed": 1}, "payment_failed", False, "release"),
    ({"paid": 1, "expired": 2}, "paid", False, "sell"),  # paid wins, whatever came first
    ({"paid": 1}, "refunded", False, "sell"),
    ({"paid": 1}, "refunded", True, "restock"),
    ({"paid": 1}, "partially_refunded", True, "sell"),  # which units came back is not known
])
def test_what_an_orders_facts_ask_of_its_reservation(facts, status, restock_on_refund, step):
    assert next_step({"facts": facts, "status": status}, restock_on_refund=restock_on_refund) == step


# --- events: exactly once, any order, any number of times --------------------------------------------------


def reserved_session(store: Any, rid: str, ref: str = "poster", quantity: int = 2, **extra: Any) -> dict[str, Any]:
    reserve(store, rid, [(ref, quantity)], hold_until=HOLD, now=NOW)
    session = make_session(payment_intent=f"pi_{uuid.uuid4().hex[:16]}", **extra)
    session["metadata"][RESERVATION_METADATA_KEY] = rid
    return session


def deliver_all(store: Any, events: list[dict[str, Any]], **options: Any) -> None:
    for event in events:
        process(event, store, Fulfiller([]), **options)


def test_expiry_events_shuffled_and_repeated_release_each_reservation_once(store):
    limited(store, poster=10)
    sessions = [reserved_session(store, f"r{i}", status="expired", payment_status="unpaid") for i in range(3)]
    assert levels(store, "poster") == (4, 6, 0)
    events = [make_event("checkout.session.expired", s) for s in sessions]
    deliveries = events * 3
    random.Random(7).shuffle(deliveries)
    deliver_all(store, deliveries)
    assert levels(store, "poster") == (10, 0, 0)


def test_a_failed_delayed_payment_releases_and_a_paid_checkout_sells(store):
    limited(store, poster=10)
    failed = reserved_session(store, "r_failed", payment_status="unpaid")
    paid = reserved_session(store, "r_paid")
    deliver_all(store, [make_event("checkout.session.completed", dict(failed)),
                        make_event("checkout.session.async_payment_failed", failed),
                        make_event("checkout.session.completed", paid),
                        make_event("checkout.session.expired", dict(paid, status="expired"))])  # cannot undo a sale
    assert levels(store, "poster") == (8, 0, 2)
    assert store.get(reservation_key("r_failed"))["state"] == "released"
    assert store.get(reservation_key("r_paid"))["state"] == "sold"


@pytest.mark.parametrize("restock_on_refund", [False, True])
def test_a_full_refund_restocks_only_when_the_seller_says_so(store, restock_on_refund):
    limited(store, poster=10)
    session = reserved_session(store, "r1")
    refund = make_event("charge.refunded", make_charge(session["payment_intent"]))
    # The refund first (parked), then the sale: restocked once all the same, and a repeat changes nothing.
    deliver_all(store, [refund, make_event("checkout.session.completed", session), refund],
                restock_on_refund=restock_on_refund)
    assert levels(store, "poster") == ((10, 0, 0) if restock_on_refund else (8, 0, 2))


def test_a_partial_refund_never_restocks(store):
    limited(store, poster=10)
    session = reserved_session(store, "r1")
    deliver_all(store, [make_event("checkout.session.completed", session),
                        make_event("charge.refunded", make_charge(session["payment_intent"], amount_refunded=1000))],
                restock_on_refund=True)
    assert levels(store, "poster") == (8, 0, 2)


class CountingStore(MemoryStore):
    """Notes every key read or written through the calls stock uses."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: list[str] = []

    def get(self, key: str) -> dict[str, Any] | None:
        self.touched.append(key)
        return super().get(key)

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.touched.extend(keys)
        return super().get_many(keys)

    def transact(self, writes: Sequence[Write | Put]) -> None:
        self.touched.extend(w.key for w in writes)
        super().transact(writes)


def test_events_about_sessions_without_stock_never_read_stock_or_reservations():
    store = CountingStore()
    session = make_session()
    deliver_all(store, [make_event(kind, dict(session)) for kind in (
        "checkout.session.completed", "checkout.session.expired", "checkout.session.async_payment_failed")]
        + [make_event("charge.refunded", make_charge(session["payment_intent"]))], restock_on_refund=True)
    stock_keys = [key for key in store.touched if key.startswith((stock_key(""), reservation_key("")))]
    assert stock_keys == []


def test_metadata_that_is_not_a_string_names_no_reservation(store):
    session = make_session()
    session["metadata"][RESERVATION_METADATA_KEY] = ""
    deliver_all(store, [make_event("checkout.session.expired", session)])
    assert "reservation" not in store.get(f"ORDER#{session['id']}")


# --- the counts the seller sets --------------------------------------------------------------------------


def test_set_add_and_unlimited(store):
    assert counts.set_available(store, "poster", 4).available == 4
    assert counts.add_available(store, "poster", 3).available == 7
    assert counts.add_available(store, "poster", -7).available == 0
    with pytest.raises(Exception, match="cannot lose 1"):
        counts.add_available(store, "poster", -1)
    assert counts.add_available(store, "new", 2).available == 2  # a price with no stock yet
    assert counts.set_available(store, "poster", None).available is None
    with pytest.raises(Exception, match="unlimited"):
        counts.add_available(store, "poster", 1)
    assert [s.ref for s in counts.listing(store)] == ["new", "poster"]


def test_the_catalogs_total_is_reached_by_moving_the_difference_and_again_changes_nothing(store):
    assert counts.sync_total(store, "poster", 12)[1] == 12
    reserve(store, "r1", [("poster", 2)], hold_until=HOLD, now=NOW)
    sell(store, "r1", now=NOW)
    assert counts.sync_total(store, "poster", 12) == (counts.current(store, "poster"), 0)
    assert levels(store, "poster") == (10, 0, 2)
    assert counts.sync_total(store, "poster", 15)[1] == 3
    assert counts.sync_total(store, "poster", 1)[1] == -13  # more sold than the new total: none left on sale
    assert levels(store, "poster") == (0, 0, 2)


# --- checkout.toml ---------------------------------------------------------------------------------------


def test_checkout_toml_gives_the_window_and_the_refund_rule(tmp_path):
    (tmp_path / "checkout.toml").write_text('expires_after_minutes = 45\nrestock_on_refund = true\n'
                                            'allow_promotion_codes = true  # the checkout options\' key\n')
    options = load(str(tmp_path / "checkout.toml"))
    assert (options.expires_after_minutes, options.restock_on_refund, options.hold_minutes) == (45, True, 45)
    assert options.params == {"allow_promotion_codes": True}
    assert CheckoutOptions().hold_minutes == 30 and not CheckoutOptions().restock_on_refund
    for bad in ({"expires_after_minutes": 29}, {"expires_after_minutes": 1441}, {"expires_after_minutes": "45"},
                {"restock_on_refund": "yes"}):
        with pytest.raises(Misconfigured, match=next(iter(bad))):
            parse(bad)
    with pytest.raises(Misconfigured, match="CHECKOUT_CONFIG"):
        load(str(tmp_path / "missing.toml"))


def test_the_session_lasts_at_least_the_window_when_stripe_makes_it_a_moment_later():
    made = NOW + 37
    expires = expires_at(made, 30)
    assert expires % 60 == 0 and 31 * 60 <= expires - made <= 32 * 60
    assert expires_at(made, 1440) - made <= 24 * 3600


# --- create-session, against the Stripe stand-in ------------------------------------------------------------


@pytest.fixture
def shop(api_env, dynamo_store, standin, catalog):
    """The app on DynamoDB over HTTP, the poster (by lookup key) limited."""
    env = dict(api_env, RATE_LIMIT="off", CRON_SECRET="cron-secret-for-the-tests-0123")

    def client(options: CheckoutOptions | None = None) -> Any:
        from starlette.testclient import TestClient

        services = Services(Settings.from_env(env), store=dynamo_store, fulfiller=Fulfiller([]),
                            checkout_options=options or CheckoutOptions())
        return TestClient(create_app(services), raise_server_exceptions=False)

    return client


def buy(client: Any, quantity: int, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/create-checkout-session", json={"priceId": "poster-lookup", "quantity": quantity},
                       headers=headers)


def test_create_session_holds_the_units_for_the_sessions_lifetime(shop, dynamo_store, standin):
    counts.set_available(dynamo_store, "poster-lookup", 5)
    before = time.time()
    created = buy(shop(CheckoutOptions(expires_after_minutes=45)), 2)
    assert created.status_code == 200, created.text
    session = standin.sessions[created.json()["id"]]
    rid = session["metadata"][RESERVATION_METADATA_KEY]
    record = dynamo_store.get(reservation_key(rid))
    # Linked by the session's metadata alone: nothing is written after Stripe answers (release-stale lists).
    assert record["state"] == "held" and "session_id" not in record
    assert session["expires_at"] == record["hold_until"] and 46 * 60 <= session["expires_at"] - before <= 47 * 60
    assert levels(dynamo_store, "poster-lookup") == (3, 2, 0)


def test_out_of_stock_is_a_409_naming_the_line_and_what_is_left_and_stripe_is_not_called(shop, dynamo_store,
                                                                                         standin):
    counts.set_available(dynamo_store, "poster-lookup", 1)
    calls = len(standin.requests)
    refused = buy(shop(), 2)
    error(refused, 409, "out_of_stock")
    assert refused.json()["error"] == {"code": "out_of_stock", "message": "Only 1 left; lower the quantity to buy.",
                                       "line": 1, "available": 1}
    assert not [r for r in standin.requests[calls:] if r["path"] == "/v1/checkout/sessions"]
    assert levels(dynamo_store, "poster-lookup") == (1, 0, 0)
    counts.set_available(dynamo_store, "poster-lookup", 0)
    assert buy(shop(), 1).json()["error"]["message"] == "Sold out."


def test_a_stripe_failure_releases_the_units_at_once(shop, dynamo_store, standin):
    counts.set_available(dynamo_store, "poster-lookup", 2)
    standin.fail_next(1, status=400)
    error(buy(shop(), 2, key="click-fails"), 502, "stripe_error")
    assert levels(dynamo_store, "poster-lookup") == (2, 0, 0)
    # The buyer retries the same click: that checkout failed, so this one is a new one and gets the units.
    retried = buy(shop(), 2, key="click-fails")
    assert retried.status_code == 200 and levels(dynamo_store, "poster-lookup") == (0, 2, 0)


def test_a_retried_click_gets_the_same_session_and_holds_the_units_once(shop, dynamo_store, standin):
    counts.set_available(dynamo_store, "poster-lookup", 3)
    first, again = buy(shop(), 2, key="click-1"), buy(shop(), 2, key="click-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert levels(dynamo_store, "poster-lookup") == (1, 2, 0)


def test_a_cart_with_one_short_line_reserves_nothing_and_names_the_buyers_line(shop, dynamo_store, standin, catalog):
    counts.set_available(dynamo_store, "poster-lookup", 1)
    tshirt = catalog["tshirt"]["id"]
    calls = len(standin.requests)
    # The two t-shirt lines become one cart line: the poster is the cart's second, but the buyer's third.
    cart = {"items": [{"priceId": tshirt}, {"priceId": tshirt, "quantity": 2}, {"priceId": "poster-lookup",
                                                                             "quantity": 2}]}
    refused = shop().post("/api/create-checkout-session", json=cart)
    assert refused.status_code == 409 and refused.json()["error"] == {
        "code": "out_of_stock", "message": "Only 1 left for line 3; lower the quantity to buy.", "line": 3,
        "available": 1}
    assert not [r for r in standin.requests[calls:] if r["path"] == "/v1/checkout/sessions"]
    assert levels(dynamo_store, "poster-lookup") == (1, 0, 0)
    cart["items"][2]["quantity"] = 1
    sold = shop().post("/api/create-checkout-session", json=cart)
    assert sold.status_code == 200 and levels(dynamo_store, "poster-lookup") == (0, 1, 0)


def test_one_key_names_one_clients_one_cart(shop, dynamo_store, standin):
    """Security's HMAC key is the reservation's id: the same click retried holds once; the same header on
    another purchase is another checkout (and does not replay the first)."""
    counts.set_available(dynamo_store, "poster-lookup", 5)
    first, retried, other = buy(shop(), 1, key="click-3"), buy(shop(), 1, key="click-3"), buy(shop(), 2, key="click-3")
    assert first.json()["id"] == retried.json()["id"] != other.json()["id"]
    held = {standin.sessions[r.json()["id"]]["metadata"][RESERVATION_METADATA_KEY] for r in (first, other)}
    assert len(held) == 2 and not any("click-3" in rid for rid in held)  # the header itself is never the key
    assert levels(dynamo_store, "poster-lookup") == (2, 3, 0)


def test_the_same_click_after_its_checkout_expired_starts_a_new_one(shop, dynamo_store, standin):
    counts.set_available(dynamo_store, "poster-lookup", 2)
    first = buy(shop(), 2, key="click-2").json()["id"]
    rid = standin.sessions[first]["metadata"][RESERVATION_METADATA_KEY]
    release(dynamo_store, rid, reason="expired")
    again = buy(shop(), 2, key="click-2").json()["id"]
    assert again != first and levels(dynamo_store, "poster-lookup") == (0, 2, 0)


def test_the_webhook_sells_and_releases_what_create_session_held(shop, dynamo_store, standin, api_env):
    counts.set_available(dynamo_store, "poster-lookup", 4)
    client = shop()
    paid, abandoned = buy(client, 1).json()["id"], buy(client, 2).json()["id"]
    standin.complete_session(paid)
    for kind, session_id in (("checkout.session.completed", paid), ("checkout.session.expired", abandoned)):
        obj = dict(standin.sessions[session_id], **({"status": "expired"} if kind.endswith("expired") else {}))
        body, headers = signed(make_event(kind, obj), api_env["STRIPE_WEBHOOK_SECRET"])
        assert client.post("/api/webhook", content=body, headers=headers).status_code == 200
    assert levels(dynamo_store, "poster-lookup") == (3, 0, 1)


def test_a_limited_line_is_never_adjustable_on_stripes_page(dynamo_store):
    """What is held is what is sold: a buyer changing the quantity at Stripe would break that."""
    from shared.checkout.prices import Price
    from shared.checkout.stock import create_with_stock

    counts.set_available(dynamo_store, "poster", 5)
    poster = Price("price_p", "poster", True, False, "usd", 2500, "Poster")
    shirt = Price("price_s", None, True, False, "usd", 1500, "T-shirt")
    adjustable = {"enabled": True, "maximum": 10}
    sent: list[dict[str, Any]] = []

    class Gateway:
        def create_session(self, params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
            sent.append(params)
            return {"id": "cs_test_adjustable", "url": "https://checkout.stripe.com/x"}

    create_with_stock(dynamo_store, Gateway(), [(poster, 2), (shirt, 1)],  # type: ignore[arg-type]
                      {"mode": "payment", "line_items": [
                          {"price": "price_p", "quantity": 2, "adjustable_quantity": adjustable},
                          {"price": "price_s", "quantity": 1, "adjustable_quantity": adjustable}]},
                      idempotency_key=f"k-{uuid.uuid4().hex}", expires_at=HOLD)
    assert sent[0]["line_items"] == [{"price": "price_p", "quantity": 2},
                                     {"price": "price_s", "quantity": 1, "adjustable_quantity": adjustable}]


# --- release-stale --------------------------------------------------------------------------------------------


def test_release_stale_settles_what_a_crash_left_held(shop, dynamo_store, standin, api_env, catalog):
    from shared.checkout.stripe_api import StripeGateway

    counts.set_available(dynamo_store, "poster-lookup", 10)
    gateway = StripeGateway(Settings.from_env(api_env))
    now = int(time.time())
    past = now - 3600
    # 1. Died after reserving, before Stripe was asked: no session anywhere.
    reserve(dynamo_store, f"crash-{uuid.uuid4().hex}", [("poster-lookup", 2)], hold_until=past, now=past - 1800)
    # 2. Died after Stripe made the session, before we learnt its ID; nobody paid it.
    orphan = f"orphan-{uuid.uuid4().hex}"
    reserve(dynamo_store, orphan, [("poster-lookup", 1)], hold_until=past, now=now)
    made = gateway.create_session({"mode": "payment", "line_items": [{"price": catalog["poster"]["id"], "quantity": 1}],
                                   "success_url": "https://shop.example.com/s",
                                   "metadata": {RESERVATION_METADATA_KEY: orphan}}, idempotency_key=orphan)
    # 3. A paid one whose event never came, and 4. one completed with a delayed payment still pending.
    paid, waiting = buy(shop(), 1).json()["id"], buy(shop(), 1).json()["id"]
    standin.complete_session(paid)
    standin.complete_session(waiting, payment_status="unpaid")
    for session_id in (paid, waiting):  # their windows ended an hour ago
        rid = standin.sessions[session_id]["metadata"][RESERVATION_METADATA_KEY]
        dynamo_store.transact([Write(reservation_key(rid), equals={"state": "held"},
                                     set={"reservation_id": rid, "state": "held", "hold_until": past})])
    # 5. One whose window has not ended: not touched.
    fresh = buy(shop(), 1).json()["id"]
    assert levels(dynamo_store, "poster-lookup") == (4, 6, 0)

    report = release_stale(dynamo_store, gateway)
    assert report.counts() == {"released": 2, "sold": 1, "waiting": 1, "unchanged": 0, "failed": 0}
    assert standin.sessions[made["id"]]["status"] == "expired"  # nobody can pay it now
    assert levels(dynamo_store, "poster-lookup") == (7, 2, 1)
    assert standin.sessions[fresh]["status"] == "open"
    assert release_stale(dynamo_store, gateway).counts()["released"] == 0  # again: nothing more to do


def test_the_cron_route_runs_release_stale_for_vercels_bearer_token_only(shop):
    client = shop()
    error(client.get("/api/release-stale"), 401, "unauthorized")
    error(client.get("/api/release-stale", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    ran = client.get("/api/release-stale", headers={"Authorization": "Bearer cron-secret-for-the-tests-0123"})
    assert ran.status_code == 200 and ran.headers["cache-control"] == "no-store"
    assert set(ran.json()) == {"released", "sold", "waiting", "unchanged", "failed"}


# --- the page's view ----------------------------------------------------------------------------------------


def test_the_stock_endpoint_answers_per_price_as_named_and_is_cacheable_for_five_seconds(shop, dynamo_store,
                                                                                         catalog):
    counts.set_available(dynamo_store, "poster-lookup", 3)
    answer = shop().get("/api/stock", params=[("priceId", "poster-lookup"), ("priceId", catalog["tshirt"]["id"])])
    assert answer.status_code == 200
    assert answer.json() == {"stock": {"poster-lookup": {"available": 3}, catalog["tshirt"]["id"]: {"available": None}}}
    assert answer.headers["cache-control"] == "public, max-age=5" and "Origin" in answer.headers["vary"]
    error(shop().get("/api/stock"), 400, "missing_price")


def test_the_page_view_reads_each_price_at_most_once_per_five_seconds():
    store, clock = CountingStore(), [100.0]
    counts.set_available(store, "poster", 3)
    view = StockView(clock=lambda: clock[0])
    assert view.available(store, ["poster", "mug"]) == {"poster": 3, "mug": None}
    counts.set_available(store, "poster", 1)
    store.touched.clear()
    clock[0] += 4.9
    assert view.available(store, ["poster"]) == {"poster": 3} and store.touched == []
    clock[0] += 0.2
    assert view.available(store, ["poster"]) == {"poster": 1}


# --- the seller's commands ----------------------------------------------------------------------------------


def test_stock_commands(monkeypatch, local_dynamo, standin, catalog, tmp_path, capsys):
    from shared.cli.main import main
    from shared.store.dynamo import DynamoStore
    from tests.conftest import SECRET_KEY

    table = f"stock-cli-{uuid.uuid4().hex[:8]}"
    for name, value in {"DYNAMODB_ENDPOINT_URL": local_dynamo.url, "DYNAMODB_TABLE": table, "AWS_REGION": "us-east-1",
                        "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    DynamoStore(table, endpoint_url=local_dynamo.url, region="us-east-1").create_table()
    assert main(["stock", "set", "poster-lookup", "12"]) == 0
    assert main(["stock", "add", "poster-lookup", "-2"]) == 0
    assert main(["stock", "set", catalog["poster"]["id"], "7"]) == 0  # an ID is counted under its lookup key
    assert main(["stock", "set", catalog["tshirt"]["id"], "unlimited"]) == 0
    out = capsys.readouterr().out
    assert "poster-lookup: 10 on sale" in out and "has the lookup key poster-lookup" in out
    # Limiting a price that sold unlimited says when running instances start holding it: once, not on each change.
    assert out.count("poster-lookup was unlimited: function instances already running hold its units") == 1
    assert main(["stock", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {row["price"]: row["available"] for row in listed} == {"poster-lookup": 7, catalog["tshirt"]["id"]: None}
    assert main(["stock", "release-stale"]) == 0
    assert capsys.readouterr().out.startswith("0 released, 0 sold")
    assert main(["stock", "add", "poster-lookup", "-8"]) == 1
    assert "cannot lose 8" in capsys.readouterr().err


def test_catalog_stock_is_parsed_and_synced_to_the_table():
    from shared.cli.catalog import CatalogError
    from shared.cli.catalog import parse as parse_catalog
    from shared.cli.catalog_sync import sync_stock

    catalog = parse_catalog({"items": [{"lookup_key": "poster", "name": "Poster", "amount": 25, "stock": 12},
                                       {"lookup_key": "tshirt", "name": "T-shirt", "amount": 15}]})
    assert [item.stock for item in catalog.items] == [12, None]
    with pytest.raises(CatalogError, match="stock"):
        parse_catalog({"items": [{"lookup_key": "x", "name": "X", "amount": 1, "stock": -1}]})
    store = MemoryStore()
    assert list(sync_stock(catalog.items, store, dry_run=True)) == ["poster: stock 12 in all (now unlimited)"]
    assert list(sync_stock(catalog.items, store)) == [
        "poster: stock 12 in all, 12 on sale, 0 in checkouts, 0 sold\n    poster was unlimited: function instances "
        "already running hold its units from at most 60 s from now (until then they may sell it unchecked)."]
    assert list(sync_stock(catalog.items, store)) == []  # again: nothing to change
    assert counts.current(store, "tshirt").available is None  # not limited by the file: not written
