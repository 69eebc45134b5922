"""What create-session costs in DynamoDB calls, pinned, and the warm cache of which prices are limited that
keeps it low (`shared/checkout/limited.py`): a cart of known, unlimited prices makes the rate limiter's call
and nothing else; a limited cart the limiter's and one transaction, which also finds a retried click's
reservation and says what is left; a price limited later is held once the instance's answer is 60 s old; one
no longer limited is never refused. Against DynamoDB over HTTP, calls counted as botocore sends them.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from shared.checkout.prices import TTL_SECONDS, PriceCatalog
from shared.checkout.sessions import create_session
from shared.checkout.stale import release_stale
from shared.checkout.stripe_api import StripeGateway
from shared.orders import stock as counts
from shared.orders.reservations import RESERVATION_METADATA_KEY, OutOfStock, reserve
from shared.settings import Secret, Settings
from shared.store.keys import reservation_key, stock_key
from tests.apiclient import SITE, error, make_client
from tests.conftest import SECRET_KEY
from tests.fakes import MemoryStore

CREATE = "/api/create-checkout-session"


@pytest.fixture
def dynamo_calls(dynamo_store: Any) -> Counter[str]:
    """Every DynamoDB API call the store makes from now on, by operation (the limiter's included)."""
    made: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        made[event_name.rsplit(".", 1)[-1]] += 1

    dynamo_store.client.meta.events.register("before-call.dynamodb", count)
    return made


@pytest.fixture
def shop(api_env: dict[str, str], dynamo_store: Any) -> Any:
    """The app with its rate limit on (one DynamoDB call per create, as deployed), on DynamoDB over HTTP."""
    return make_client(dict(api_env, RATE_LIMIT="1000/60"), dynamo_store)


def buy(client: Any, *refs: str, quantity: int = 1, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(CREATE, json={"items": [{"priceId": ref, "quantity": quantity} for ref in refs]},
                       headers=headers)


def levels(store: Any, ref: str) -> tuple[int | None, int, int]:
    s = counts.current(store, ref)
    return s.available, s.held, s.sold


def test_an_unlimited_cart_of_known_prices_makes_only_the_rate_limiters_call(shop, catalog, dynamo_calls):
    tshirt = catalog["tshirt"]["id"]
    # Cold: the prices are looked up at Stripe, and whether they are limited read once for both, meanwhile.
    assert buy(shop, tshirt, "poster-lookup").status_code == 200
    assert dynamo_calls == {"UpdateItem": 1, "BatchGetItem": 1}
    dynamo_calls.clear()
    for _ in range(3):
        assert buy(shop, tshirt, "poster-lookup").status_code == 200
        assert buy(shop, tshirt).status_code == 200
    assert dynamo_calls == {"UpdateItem": 6}


def test_a_limited_cart_makes_the_limiters_call_and_one_transaction(shop, catalog, dynamo_store, dynamo_calls,
                                                                     standin):
    counts.set_available(dynamo_store, "poster-lookup", 5)
    assert buy(shop, catalog["tshirt"]["id"], "poster-lookup").status_code == 200  # the prices now known
    dynamo_calls.clear()
    made = buy(shop, catalog["tshirt"]["id"], "poster-lookup", quantity=2)
    assert made.status_code == 200
    assert dynamo_calls == {"UpdateItem": 1, "TransactWriteItems": 1}
    assert levels(dynamo_store, "poster-lookup") == (2, 3, 0)
    assert standin.sessions[made.json()["id"]]["metadata"][RESERVATION_METADATA_KEY]


def test_out_of_stock_comes_from_the_transactions_failed_condition_without_a_read(shop, dynamo_store, dynamo_calls,
                                                                                   catalog):
    counts.set_available(dynamo_store, "poster-lookup", 3)
    assert buy(shop, catalog["tshirt"]["id"], "poster-lookup").status_code == 200
    dynamo_calls.clear()
    refused = buy(shop, catalog["tshirt"]["id"], "poster-lookup", quantity=3)
    assert refused.status_code == 409 and refused.json()["error"] == {
        "code": "out_of_stock", "message": "Only 2 left for line 2; lower the quantity to buy.", "line": 2,
        "available": 2}
    assert dynamo_calls == {"UpdateItem": 1, "TransactWriteItems": 1}
    assert levels(dynamo_store, "poster-lookup") == (2, 1, 0)


def test_a_retried_click_finds_its_reservation_in_that_one_transaction(shop, dynamo_store, dynamo_calls):
    counts.set_available(dynamo_store, "poster-lookup", 5)
    click = f"click-{uuid.uuid4().hex}"  # the stand-in outlives the test: a key of its own, or Stripe replays
    first = buy(shop, "poster-lookup", key=click)
    dynamo_calls.clear()
    again = buy(shop, "poster-lookup", key=click)
    # No read: the reserving transaction's failed `new` condition returned the reservation. The second
    # transaction links the session to it, which only a click that found its hold does (checkout/stock.py).
    assert dynamo_calls == {"UpdateItem": 1, "TransactWriteItems": 2}
    assert first.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"] and levels(dynamo_store, "poster-lookup") == (4, 1, 0)


def test_a_price_limited_while_warm_is_held_once_the_instances_answer_is_60_s_old(api_env, dynamo_store, standin):
    clock = [1000.0]
    gateway = StripeGateway(Settings.from_env(api_env))
    catalog = PriceCatalog(("poster-lookup",), gateway, clock=lambda: clock[0])

    def create() -> dict[str, str]:
        return create_session(catalog, gateway, SITE, {"priceId": "poster-lookup"}, None, client="buyer",
                              secret=Secret(SECRET_KEY), store=dynamo_store)

    create()  # unlimited, and known as such from now
    counts.set_available(dynamo_store, "poster-lookup", 1)
    clock[0] += TTL_SECONDS - 1
    create()  # the trade-off: still sold unchecked, as it was a moment before it was limited
    assert levels(dynamo_store, "poster-lookup") == (1, 0, 0)
    clock[0] += 2
    held = create()
    assert levels(dynamo_store, "poster-lookup") == (0, 1, 0)
    assert standin.sessions[held["id"]]["metadata"][RESERVATION_METADATA_KEY]
    with pytest.raises(OutOfStock):
        create()


@pytest.mark.parametrize("how", ["item removed", "set unlimited"])
def test_a_price_no_longer_limited_is_sold_never_refused(shop, dynamo_store, dynamo_calls, standin, how):
    counts.set_available(dynamo_store, "poster-lookup", 0)
    error(buy(shop, "poster-lookup"), 409, "out_of_stock")  # the instance knows it is limited
    if how == "item removed":
        dynamo_store.client.delete_item(TableName=dynamo_store.table, Key={"pk": {"S": stock_key("poster-lookup")}})
    else:
        counts.set_available(dynamo_store, "poster-lookup", None)  # its counts kept: 0 on sale
    dynamo_calls.clear()
    sold = buy(shop, "poster-lookup")
    assert sold.status_code == 200, sold.text
    assert RESERVATION_METADATA_KEY not in standin.sessions[sold.json()["id"]]["metadata"]
    assert dynamo_calls == {"UpdateItem": 1, "TransactWriteItems": 1}  # the failed condition said so
    dynamo_calls.clear()
    assert buy(shop, "poster-lookup").status_code == 200
    assert dynamo_calls == {"UpdateItem": 1}  # and the instance remembers


def test_a_cold_carts_stock_is_read_beside_stripes_price_look_ups(api_env, catalog):
    """The read starts before Stripe answers: a look-up that waits for it would otherwise wait in vain."""
    read = threading.Event()

    class Store(MemoryStore):
        def get_many(self, keys: Any) -> dict[str, dict[str, Any]]:
            read.set()
            return super().get_many(keys)

    class Slow(StripeGateway):
        def find_price(self, lookup_key: str) -> dict[str, Any] | None:
            assert read.wait(5), "Stripe was asked first, the stock read only after"
            return super().find_price(lookup_key)

    store, settings = Store(), Settings.from_env(api_env)
    counts.set_available(store, "poster-lookup", 2)
    catalog_ = PriceCatalog(("poster-lookup",), Slow(settings))
    made = create_session(catalog_, StripeGateway(settings), SITE, {"priceId": "poster-lookup"}, None,
                          client="buyer", secret=Secret(SECRET_KEY), store=store)
    assert made["id"] and levels(store, "poster-lookup") == (1, 1, 0)


def test_known_unlimited_prices_sell_with_the_store_down_and_unknown_ones_do_not(api_env, catalog):
    store = MemoryStore()
    client = make_client(dict(api_env, RATE_LIMIT="off"), store)
    tshirt = catalog["tshirt"]["id"]
    assert buy(client, tshirt).status_code == 200
    store.fail = True
    assert buy(client, tshirt).status_code == 200  # nothing to check: known unlimited
    error(buy(client, "poster-lookup"), 503, "store_unavailable")  # not known: never taken for unlimited


# --- reserving, at the store ---------------------------------------------------------------------------------


def test_a_line_believed_limited_that_is_not_is_left_out_never_refused(store):
    counts.set_available(store, "poster", 5)
    counts.set_available(store, "mug", 0)
    counts.set_available(store, "mug", None)  # unlimited now, 0 kept as its count
    made = reserve(store, "r1", [("poster", 2), ("mug", 3), ("ghost", 1)], hold_until=2_000_000_000)
    assert made is not None and made.made_now and made.lines == (("poster", 2),)
    assert levels(store, "poster") == (3, 2, 0) and counts.current(store, "mug").held == 0
    assert reserve(store, "r2", [("mug", 1), ("ghost", 1)], hold_until=2_000_000_000) is None
    assert store.get(reservation_key("r2")) is None


def test_only_lines_named_limited_are_taken(store):
    counts.set_available(store, "poster", 5)
    counts.set_available(store, "mug", 5)
    made = reserve(store, "r1", [("poster", 1), ("mug", 1)], hold_until=2_000_000_000, limited={"mug"})
    assert made is not None and made.lines == (("mug", 1),)
    with pytest.raises(OutOfStock) as short:
        reserve(store, "r2", [("poster", 1), ("mug", 9)], hold_until=2_000_000_000, limited={"mug"})
    assert (short.value.line, short.value.available) == (2, 4)


# --- release-stale, now that create-session writes nothing after Stripe answers ------------------------------


def test_release_stale_lists_the_sessions_of_a_rushs_stale_holds_once():
    store, now = MemoryStore(), 2_000_000_000
    counts.set_available(store, "poster", 10)
    ids = [f"r-{uuid.uuid4().hex}" for _ in range(4)]
    for n, rid in enumerate(ids):
        reserve(store, rid, [("poster", 1)], hold_until=now - 3600, now=now - 5400 + n)

    class Gateway:
        listed = 0
        expired: list[str] = []

        def sessions_created(self, since: int, until: int) -> list[dict[str, Any]]:
            self.listed += 1
            assert since <= now - 5400 and now - 5400 + 3 <= until
            return [{"id": f"cs_{rid}", "status": "open", "metadata": {RESERVATION_METADATA_KEY: rid}}
                    for rid in ids[:3]]  # the fourth died before Stripe made its session

        def expire_session(self, session_id: str) -> dict[str, Any]:
            self.expired.append(session_id)
            return {"id": session_id, "status": "expired"}

    gateway = Gateway()
    report = release_stale(store, gateway, now=now)  # type: ignore[arg-type]
    assert report.counts()["released"] == 4 and gateway.listed == 1
    assert sorted(gateway.expired) == sorted(f"cs_{rid}" for rid in ids[:3])
    assert levels(store, "poster") == (10, 0, 0)
