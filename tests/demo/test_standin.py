"""The Stripe stand-in, driven through the real `stripe` package as application code drives it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe

from shared.demo.standin import StripeError, StripeStandIn
from shared.demo.standin._forms import decode
from shared.demo.standin.params import validate


def _session_params(price_id: str, **extra: Any) -> Any:
    # Any, not SessionCreateParams: some tests corrupt these on purpose.
    return {
        "mode": "payment",
        "line_items": [{"price": price_id, "quantity": 2}],
        "success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cart",
        **extra,
    }


def _raw(fresh_standin: StripeStandIn, path: str, **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(fresh_standin.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# --- checkout sessions ---


def test_create_session_prices_line_items_and_points_url_at_standin(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(unit_amount=1500)

    session = stripe_client.v1.checkout.sessions.create(
        params=_session_params(price["id"], metadata={"order": "42"}, client_reference_id="c1")
    )

    assert session.id.startswith("cs_test_") and len(session.id) == len("cs_test_") + 58
    assert session.url == f"{fresh_standin.url}/c/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3000, 3000, "usd")
    assert session.metadata is not None and session.metadata.to_dict() == {"order": "42"}
    assert session.client_reference_id == "c1"
    assert fresh_standin.sessions[session.id]["success_url"].endswith("{CHECKOUT_SESSION_ID}")


def test_retrieve_session_expands_line_items_as_a_list(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(unit_amount=700, product_name="Mug")
    created = stripe_client.v1.checkout.sessions.create(params=_session_params(price["id"]))

    session = stripe_client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
    listed = stripe_client.v1.checkout.sessions.line_items.list(created.id)

    assert session.line_items is not None and session.line_items["object"] == "list"
    (item,) = session.line_items.data
    assert (item.object, item.description, item.quantity) == ("item", "Mug", 2)
    assert item.price is not None
    assert (item.amount_total, item.price.id) == (1400, price["id"])
    assert [i.id for i in listed.data] == [item.id]
    assert "line_items" not in created  # only there when expanded


def test_retrieve_session_expands_through_arrays(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    # As Stripe does, `discounts.promotion_code` expands each entry of the array (none, or some).
    price = fresh_standin.add_price(unit_amount=700, product_name="Mug")
    created = stripe_client.v1.checkout.sessions.create(params=_session_params(price["id"]))
    expand = ["line_items", "discounts.promotion_code", "shipping_cost.shipping_rate"]

    plain = stripe_client.v1.checkout.sessions.retrieve(created.id, params={"expand": expand})
    assert plain.discounts == [] and plain.shipping_cost is None
    fresh_standin.sessions[created.id]["discounts"] = [{"coupon": None, "promotion_code": price["id"]}]
    listed = stripe_client.v1.checkout.sessions.retrieve(created.id, params={"expand": expand})
    assert listed.discounts is not None
    (entry,) = listed.discounts
    assert entry.to_dict()["promotion_code"]["id"] == price["id"]  # any object the stand-in keeps


def test_complete_session_marks_it_paid_with_a_payment_intent(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    session = stripe_client.v1.checkout.sessions.create(params=_session_params(fresh_standin.add_price()["id"]))

    fresh_standin.complete_session(session.id, email="ada@example.com")
    paid = stripe_client.v1.checkout.sessions.retrieve(session.id)

    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details is not None
    assert paid.customer_details.email == "ada@example.com"
    assert isinstance(paid.payment_intent, str) and paid.payment_intent.startswith("pi_")


def test_complete_subscription_session_gives_a_subscription(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(recurring={"interval": "month"})
    params = _session_params(price["id"], mode="subscription")
    params["line_items"][0]["quantity"] = 1
    session = stripe_client.v1.checkout.sessions.create(params=params)

    completed = fresh_standin.complete_session(session.id)

    assert completed["subscription"].startswith("sub_") and completed["payment_intent"] is None


# --- parameter validation ---


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"succes_url": "https://x"}, "succes_url"),
        ({"line_items": [{"pricee": "price_x", "quantity": 1}]}, "line_items[0][pricee]"),
        ({"subscription_data": {"trial_period_dayz": 3}}, "subscription_data[trial_period_dayz]"),
        ({"idempotency_key": "k1"}, "idempotency_key"),  # a stripe_client option, never a parameter
    ],
)
def test_create_rejects_unknown_parameter_naming_it(
    stripe_client: stripe.StripeClient, params: dict[str, Any], param: str
) -> None:
    misspelt: Any = {"mode": "payment", **params}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=misspelt)

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        400,
        "parameter_unknown",
        param,
    )
    assert raised.value.user_message == f"Received unknown parameter: {param}"


def test_list_rejects_unknown_query_parameter(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.list(params={"lookup_key": ["tee"]})  # type: ignore[arg-type]

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "lookup_key")


def test_create_rejects_value_outside_the_enum(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params={"mode": "paymnet"})

    assert raised.value.param == "mode"
    assert "must be one of payment, setup, or subscription" in str(raised.value.user_message)


def test_create_rejects_missing_required_nested_parameter(stripe_client: stripe.StripeClient) -> None:
    line_item: Any = {"price_data": {"unit_amount": 500, "product_data": {"name": "Pin"}}}
    line_item["quantity"] = 1

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params={"mode": "payment", "line_items": [line_item]})

    assert (raised.value.code, raised.value.param) == (
        "parameter_missing",
        "line_items[0][price_data][currency]",
    )


def test_create_rejects_non_integer_quantity(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    params = _session_params(fresh_standin.add_price()["id"])
    params["line_items"][0]["quantity"] = "two"

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=params)

    assert (raised.value.code, raised.value.param) == (
        "parameter_invalid_integer",
        "line_items[0][quantity]",
    )


def test_empty_string_unsets_only_where_the_definition_allows() -> None:
    from stripe.params.checkout import SessionCreateParams

    assert validate(SessionCreateParams, decode("custom_text[submit]=")) == {
        "custom_text": {"submit": ""}
    }
    with pytest.raises(StripeError, match="cannot be unset"):
        validate(SessionCreateParams, decode("customer_email="))


def test_both_array_spellings_decode_to_lists() -> None:
    assert (
        decode("expand[]=a&expand[]=b")
        == decode("expand[0]=a&expand[1]=b")
        == {"expand": ["a", "b"]}
    )
    assert decode("metadata[k]=v&line_items[0][price]=p") == {
        "metadata": {"k": "v"},
        "line_items": [{"price": "p"}],
    }


# --- business errors ---


def test_unknown_price_in_line_items_is_resource_missing(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=_session_params("price_nope"))

    assert (raised.value.http_status, raised.value.code) == (400, "resource_missing")
    assert raised.value.param == "line_items[0][price]"
    assert raised.value.user_message == "No such price: 'price_nope'"


def test_retrieve_unknown_price_is_404_resource_missing(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.retrieve("price_nope")

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404,
        "resource_missing",
        "id",
    )


def test_recurring_price_in_payment_mode_is_rejected(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(recurring={"interval": "month"})

    with pytest.raises(stripe.InvalidRequestError, match="You specified `payment` mode"):
        stripe_client.v1.checkout.sessions.create(params=_session_params(price["id"]))


def test_inactive_price_is_rejected(fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient) -> None:
    price = fresh_standin.add_price(active=False)

    with pytest.raises(stripe.InvalidRequestError, match="inactive"):
        stripe_client.v1.checkout.sessions.create(params=_session_params(price["id"]))


# --- idempotency ---


def test_same_idempotency_key_replays_the_first_session(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    params = _session_params(fresh_standin.add_price()["id"])

    first = stripe_client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})
    again = stripe_client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})

    assert again.id == first.id
    assert len(fresh_standin.sessions) == 1
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert [r["idempotency_key"] for r in fresh_standin.requests] == ["k1", "k1"]


def test_same_idempotency_key_with_other_params_is_rejected(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price_id = fresh_standin.add_price()["id"]
    stripe_client.v1.checkout.sessions.create(
        params=_session_params(price_id), options={"idempotency_key": "k1"}
    )

    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        stripe_client.v1.checkout.sessions.create(
            params=_session_params(price_id, client_reference_id="other"),
            options={"idempotency_key": "k1"},
        )


# --- auth ---


def test_bad_api_key_is_401_and_never_echoed_in_full(fresh_standin: StripeStandIn) -> None:
    key = "pk_test_thisIsNotASecretKey9876"
    bad = stripe.StripeClient(key, base_addresses={"api": fresh_standin.url}, max_network_retries=0)

    with pytest.raises(stripe.AuthenticationError) as raised:
        bad.v1.prices.list()

    assert raised.value.http_status == 401
    assert raised.value.user_message == "Invalid API Key provided: pk_test_****9876"
    assert key not in str(raised.value.json_body)


def test_missing_api_key_is_401(fresh_standin: StripeStandIn) -> None:
    status, body = _raw(fresh_standin, "/v1/prices")

    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"


# --- prices and products ---


def test_price_list_filters_by_lookup_key_and_expands_product(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    fresh_standin.add_price(lookup_key="mug", product_name="Mug")
    tee = fresh_standin.add_price(lookup_key="tee", product_name="T-shirt")

    prices = stripe_client.v1.prices.list(params={"lookup_keys": ["tee"], "expand": ["data.product"]})

    assert [p.id for p in prices.data] == [tee["id"]]
    assert isinstance(prices.data[0].product, stripe.Product)
    assert prices.data[0].product.name == "T-shirt"
    assert (prices.url, prices.has_more) == ("/v1/prices", False)


def test_price_retrieve_expands_product_and_product_retrieve_agrees(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(product_name="Cap")

    expanded = stripe_client.v1.prices.retrieve(price["id"], params={"expand": ["product"]})
    product = stripe_client.v1.products.retrieve(price["product"])

    assert isinstance(expanded.product, stripe.Product)
    assert expanded.product.id == product.id == price["product"]
    assert (product.object, product.name) == ("product", "Cap")


def test_query_accepts_empty_bracket_array_spelling(fresh_standin: StripeStandIn) -> None:
    price = fresh_standin.add_price()
    auth = {"Authorization": "Bearer sk_test_123"}

    status, body = _raw(fresh_standin, f"/v1/prices/{price['id']}?expand[]=product", **auth)

    assert status == 200 and body["product"]["object"] == "product"


# --- events ---


def test_events_page_newest_first_through_auto_paging_iter(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    added = [
        fresh_standin.add_event("charge.succeeded", {"id": f"ch_{i}"}, created=1000 + i)
        for i in range(25)
    ]

    first_page = stripe_client.v1.events.list(params={"limit": 10})
    every = [event.id for event in first_page.auto_paging_iter()]

    assert first_page.has_more is True
    assert every == [event["id"] for event in reversed(added)]
    assert [r["params"].get("starting_after") for r in fresh_standin.requests] == [
        None,
        added[15]["id"],
        added[5]["id"],
    ]


def test_events_filter_by_type_pattern_and_created_range(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    fresh_standin.add_event("checkout.session.completed", {"id": "cs_1"}, created=100)
    late = fresh_standin.add_event("checkout.session.expired", {"id": "cs_2"}, created=200)
    fresh_standin.add_event("charge.refunded", {"id": "ch_1"}, created=300)

    events = stripe_client.v1.events.list(
        params={"type": "checkout.session.*", "created": {"gte": 150, "lt": 400}}
    )

    assert [e.id for e in events.data] == [late["id"]]
    assert events.data[0].data.object.id == "cs_2"


# --- faults, records, routing, the hosted page ---


def test_fail_next_answers_api_error_then_recovers(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    fresh_standin.fail_next(1, status=503)

    with pytest.raises(stripe.APIError) as raised:
        stripe_client.v1.events.list()

    assert raised.value.http_status == 503
    assert stripe_client.v1.events.list().data == []


def test_fail_next_delay_trips_a_client_timeout(fresh_standin: StripeStandIn) -> None:
    impatient = stripe.StripeClient(
        "sk_test_123",
        base_addresses={"api": fresh_standin.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.1),
    )
    fresh_standin.fail_next(status=0, delay=0.5)

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.events.list()


def test_records_each_request_with_params_and_headers(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price()
    for _ in range(3):
        stripe_client.v1.prices.retrieve(price["id"])
    stripe_client.v1.checkout.sessions.create(params=_session_params(price["id"]))

    reads = [r for r in fresh_standin.requests if r["path"] == f"/v1/prices/{price['id']}"]
    (create,) = [r for r in fresh_standin.requests if r["method"] == "POST"]
    assert len(reads) == 3
    assert create["params"]["line_items"] == [{"price": price["id"], "quantity": "2"}]
    assert create["idempotency_key"]  # the stripe_client sends one on every POST
    assert create["stripe_version"] == stripe.api_version


def test_unknown_route_is_404_in_stripes_shape(fresh_standin: StripeStandIn) -> None:
    status, body = _raw(fresh_standin, "/v1/nope", Authorization="Bearer sk_test_123")

    assert status == 404
    assert body["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nope)")


def test_hosted_page_shows_the_session_and_pay_redirects_to_success_url(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    session = stripe_client.v1.checkout.sessions.create(params=_session_params(fresh_standin.add_price()["id"]))
    assert session.url is not None

    with urllib.request.urlopen(session.url) as page:
        html = page.read().decode()
    redirect = urllib.request.Request(session.url, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.build_opener(_NoRedirect).open(redirect)

    assert "<title>Stripe Checkout stand-in</title>" in html
    assert f'<h1 id="standin-checkout">Checkout for {session.id}</h1>' in html
    assert raised.value.code == 303
    assert raised.value.headers["Location"] == f"https://shop.example/thanks?session={session.id}"
    assert fresh_standin.sessions[session.id]["status"] == "complete"
    assert [e.type for e in stripe_client.v1.events.list().data] == ["checkout.session.completed"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_non_api_paths_are_not_recorded_and_do_not_use_up_faults(fresh_standin: StripeStandIn) -> None:
    fresh_standin.fail_next(1, status=500)

    status, body = _raw(fresh_standin, "/favicon.ico")

    assert status == 404 and body["error"]["message"].startswith("Unrecognized request URL")
    assert fresh_standin.requests == []
    assert _raw(fresh_standin, "/v1/events", Authorization="Bearer sk_test_123")[0] == 500


# --- products ---


def test_product_create_with_default_price_then_update_and_list(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    product = stripe_client.v1.products.create(
        params={
            "name": "Zine",
            "description": "Issue 1",
            "images": ["https://shop.example/zine.png"],
            "metadata": {"sku": "z1", "shelf": "a"},
            "default_price_data": {"currency": "EUR", "unit_amount": 900},
        }
    )
    updated = stripe_client.v1.products.update(
        product.id, params={"description": "", "metadata": {"shelf": "", "new": "yes"}}
    )
    stripe_client.v1.products.create(params={"name": "Retired", "active": False})

    assert product.id.startswith("prod_") and product.images == ["https://shop.example/zine.png"]
    assert isinstance(product.default_price, str)
    price = stripe_client.v1.prices.retrieve(product.default_price)
    assert (price.product, price.unit_amount, price.currency, price.type) == (
        product.id,
        900,
        "eur",
        "one_time",
    )
    assert updated.description is None and updated.name == "Zine"
    assert updated.metadata is not None and updated.metadata.to_dict() == {
        "sku": "z1",
        "new": "yes",
    }
    active = stripe_client.v1.products.list(params={"active": True})
    by_id = stripe_client.v1.products.list(params={"ids": [product.id]})
    assert [p.id for p in active.data] == [product.id] == [p.id for p in by_id.data]
    assert fresh_standin.products[product.id]["metadata"] == {"sku": "z1", "new": "yes"}


def test_product_update_of_unknown_product_is_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.products.update("prod_nope", params={"name": "x"})

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


# --- prices ---


def test_price_create_recurring_with_product_data(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = stripe_client.v1.prices.create(
        params={
            "product_data": {"name": "Club"},
            "currency": "usd",
            "unit_amount": 500,
            "recurring": {"interval": "month", "interval_count": 3},
            "nickname": "quarterly",
            "metadata": {"tier": "gold"},
            "tax_behavior": "exclusive",
        }
    )

    assert price.type == "recurring" and price.recurring is not None
    assert (price.recurring.interval, price.recurring.interval_count) == ("month", 3)
    assert (price.recurring.usage_type, price.recurring.trial_period_days) == ("licensed", None)
    assert (price.nickname, price.tax_behavior, price.lookup_key) == (
        "quarterly",
        "exclusive",
        None,
    )
    assert isinstance(price.product, str)
    assert stripe_client.v1.products.retrieve(price.product).name == "Club"
    assert fresh_standin.prices[price.id]["unit_amount"] == 500


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"currency": "usd", "unit_amount": 5}, "parameter_missing", "product"),
        (
            {"currency": "usd", "unit_amount": 5, "product": "prod_no"},
            "resource_missing",
            "product",
        ),
        ({"currency": "usd", "product_data": {"name": "x"}}, "parameter_missing", "unit_amount"),
        ({"product_data": {"name": "x"}, "unit_amount": 5}, "parameter_missing", "currency"),
    ],
)
def test_price_create_needs_a_product_an_amount_and_a_currency(
    stripe_client: stripe.StripeClient, params: dict[str, Any], code: str, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.create(params=params)  # type: ignore[arg-type]

    assert (raised.value.http_status, raised.value.code, raised.value.param) == (400, code, param)


def test_price_create_with_a_taken_lookup_key_is_rejected_naming_the_holder(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    old = fresh_standin.add_price(lookup_key="pro")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.create(
            params={
                "product": old["product"],
                "currency": "usd",
                "unit_amount": 2000,
                "lookup_key": "pro",
            }
        )

    assert raised.value.http_status == 400 and raised.value.param == "lookup_key"
    assert raised.value.user_message == f"A price (`{old['id']}`) already uses that lookup key."
    assert list(fresh_standin.prices) == [old["id"]]


def test_price_create_with_transfer_lookup_key_moves_the_key(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    old = fresh_standin.add_price(lookup_key="pro", unit_amount=1500)

    new = stripe_client.v1.prices.create(
        params={
            "product": old["product"],
            "currency": "usd",
            "unit_amount": 2000,
            "lookup_key": "pro",
            "transfer_lookup_key": True,
        }
    )

    assert new.lookup_key == "pro" and stripe_client.v1.prices.retrieve(old["id"]).lookup_key is None
    listed = stripe_client.v1.prices.list(params={"lookup_keys": ["pro"]})
    assert [p.id for p in listed.data] == [new.id]


def test_price_update_moves_a_lookup_key_only_when_asked(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    old = fresh_standin.add_price(lookup_key="pro")
    new = fresh_standin.add_price(unit_amount=2000)

    with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
        stripe_client.v1.prices.update(new["id"], params={"lookup_key": "pro"})
    moved = stripe_client.v1.prices.update(
        new["id"], params={"lookup_key": "pro", "transfer_lookup_key": True, "nickname": "v2"}
    )
    tagged = stripe_client.v1.prices.update(old["id"], params={"metadata": {"a": "b"}})

    assert (moved.lookup_key, moved.nickname) == ("pro", "v2")
    assert (tagged.lookup_key, tagged.active) == (None, True)
    assert tagged.metadata is not None and tagged.metadata.to_dict() == {"a": "b"}


def test_price_update_cannot_change_the_amount(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price()
    params: Any = {"unit_amount": 99}

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.update(price["id"], params=params)

    assert (raised.value.code, raised.value.param) == ("parameter_unknown", "unit_amount")


def test_default_price_cannot_be_archived_until_replaced(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create(
        params={"name": "Mug", "default_price_data": {"currency": "usd", "unit_amount": 800}}
    )
    assert isinstance(product.default_price, str)
    newer = stripe_client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 900}
    )

    with pytest.raises(stripe.InvalidRequestError, match="default price of its product"):
        stripe_client.v1.prices.update(product.default_price, params={"active": False})
    stripe_client.v1.products.update(product.id, params={"default_price": newer.id})

    assert stripe_client.v1.prices.update(product.default_price, params={"active": False}).active is False


def test_valid_parameter_the_standin_does_not_model_is_refused_not_ignored(
    stripe_client: stripe.StripeClient,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.prices.create(
            params={
                "product_data": {"name": "x"},
                "currency": "usd",
                "unit_amount": 5,
                "transform_quantity": {"divide_by": 2, "round": "up"},
            }
        )

    assert raised.value.param == "transform_quantity"
    assert "stand-in does not implement" in str(raised.value.user_message)


# --- customers, subscriptions and the billing portal ---


def _subscribe(fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, email: str) -> Any:
    price = fresh_standin.add_price(unit_amount=500, recurring={"interval": "month"})
    params = _session_params(price["id"], mode="subscription")
    params["line_items"][0]["quantity"] = 1
    session = stripe_client.v1.checkout.sessions.create(params=params)
    return fresh_standin.complete_session(session.id, email=email), price


def test_complete_subscription_session_stores_its_customer_and_subscription(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    session, price = _subscribe(fresh_standin, stripe_client, "ada@example.com")

    customer = stripe_client.v1.customers.retrieve(session["customer"])
    sub = stripe_client.v1.subscriptions.retrieve(session["subscription"], params={"expand": ["customer"]})

    assert customer.id.startswith("cus_") and customer.email == "ada@example.com"
    assert session["customer_details"]["email"] == "ada@example.com"
    assert (sub.status, sub.cancel_at_period_end, sub.canceled_at) == ("active", False, None)
    assert isinstance(sub.customer, stripe.Customer) and sub.customer.id == customer.id
    (item,) = sub["items"].data
    assert (item.price.id, item.price.unit_amount, item.quantity) == (price["id"], 500, 1)
    assert item.current_period_end - item.current_period_start == 30 * 24 * 3600
    assert list(fresh_standin.subscriptions) == [sub.id]


@pytest.mark.parametrize(("creation", "stored"), [(None, False), ("always", True)])
def test_payment_session_creates_a_customer_only_with_customer_creation_always(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient, creation: str | None, stored: bool
) -> None:
    extra = {"customer_creation": creation} if creation else {}
    session = stripe_client.v1.checkout.sessions.create(
        params=_session_params(fresh_standin.add_price()["id"], **extra)
    )

    completed = fresh_standin.complete_session(session.id)

    assert completed["customer_creation"] == creation
    assert (completed["customer"] in fresh_standin.customers) is stored
    assert (completed["customer"] is None) is not stored


def test_checkout_for_an_existing_customer_keeps_it_and_unknown_ones_are_rejected(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    customer = fresh_standin.add_customer(email="known@example.com")
    price_id = fresh_standin.add_price()["id"]

    session = stripe_client.v1.checkout.sessions.create(
        params=_session_params(price_id, customer=customer["id"])
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=_session_params(price_id, customer="cus_nope"))

    assert fresh_standin.complete_session(session.id)["customer"] == customer["id"]
    assert list(fresh_standin.customers) == [customer["id"]]
    assert (raised.value.code, raised.value.param) == ("resource_missing", "customer")


def test_portal_session_for_a_customer_serves_the_portal_page(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    session, _ = _subscribe(fresh_standin, stripe_client, "ada@example.com")

    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": session["customer"], "return_url": "https://shop.example/account"}
    )
    with urllib.request.urlopen(portal.url) as page:
        html = page.read().decode()

    assert portal.id.startswith("bps_") and portal.object == "billing_portal.session"
    assert portal.url == f"{fresh_standin.url}/p/session/{portal.id}"
    assert (portal.customer, portal.return_url) == (
        session["customer"],
        "https://shop.example/account",
    )
    assert "<title>Customer portal stand-in</title>" in html
    assert f'id="standin-subscription-{session["subscription"]}"' in html
    assert 'href="https://shop.example/account"' in html


def test_portal_session_needs_a_known_customer(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.billing_portal.sessions.create(params={"return_url": "https://x.example"})

    assert (unknown.value.http_status, unknown.value.code, unknown.value.param) == (
        400,
        "resource_missing",
        "customer",
    )
    assert unknown.value.user_message == "No such customer: 'cus_nope'"
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "customer")


def test_subscription_list_filters_by_customer_status_and_price(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    monthly = fresh_standin.add_price(recurring={"interval": "month"})["id"]
    yearly = fresh_standin.add_price(recurring={"interval": "year"})["id"]
    ada = fresh_standin.add_customer(email="ada@example.com")["id"]
    first = fresh_standin.add_subscription(customer=ada, price=monthly)["id"]
    gone = fresh_standin.add_subscription(customer=ada, price=yearly, status="canceled")["id"]
    other = fresh_standin.add_subscription(price=monthly)["id"]

    def ids(**params: Any) -> list[str]:
        listed = stripe_client.v1.subscriptions.list(params=params)  # type: ignore[arg-type]
        return [s.id for s in listed.data]

    assert ids(customer=ada) == [first]  # canceled ones only when asked for
    assert ids(customer=ada, status="all") == [gone, first]
    assert ids(status="canceled") == [gone]
    assert ids(price=monthly) == [other, first]
    assert fresh_standin.subscriptions[other]["customer"] in fresh_standin.customers


def test_subscription_cancel_at_period_end_and_back(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    sub = fresh_standin.add_subscription(price=fresh_standin.add_price(recurring={"interval": "month"})["id"])
    period_end = sub["items"]["data"][0]["current_period_end"]

    ending = stripe_client.v1.subscriptions.update(
        sub["id"], params={"cancel_at_period_end": True, "metadata": {"why": "moving"}}
    )
    resumed = stripe_client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": False})

    assert (ending.status, ending.cancel_at_period_end, ending.cancel_at) == (
        "active",
        True,
        period_end,
    )
    assert ending.canceled_at is not None
    assert ending.cancellation_details is not None
    assert ending.cancellation_details.reason == "cancellation_requested"
    assert (resumed.cancel_at_period_end, resumed.cancel_at, resumed.canceled_at) == (
        False,
        None,
        None,
    )
    assert resumed.metadata is not None and resumed.metadata.to_dict() == {"why": "moving"}


def test_subscription_cancel_at_takes_a_timestamp(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    sub = fresh_standin.add_subscription(price=fresh_standin.add_price(recurring={"interval": "month"})["id"])
    at = sub["created"] + 3600

    updated = stripe_client.v1.subscriptions.update(sub["id"], params={"cancel_at": at})

    assert (updated.cancel_at, updated.cancel_at_period_end) == (at, False)


def test_subscription_cancel_ends_it_now_and_only_once(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    sub = fresh_standin.add_subscription(price=fresh_standin.add_price(recurring={"interval": "month"})["id"])

    canceled = stripe_client.v1.subscriptions.cancel(sub["id"])
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.subscriptions.cancel(sub["id"])
    with pytest.raises(
        stripe.InvalidRequestError, match="can only update its cancellation_details"
    ):
        stripe_client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": True})
    tagged = stripe_client.v1.subscriptions.update(sub["id"], params={"metadata": {"k": "v"}})

    assert canceled.status == "canceled" and canceled.canceled_at == canceled.ended_at
    assert canceled.canceled_at is not None
    assert (again.value.http_status, again.value.code) == (404, "resource_missing")
    assert tagged.status == "canceled"
    assert [r["method"] for r in fresh_standin.requests][0] == "DELETE"


def test_subscription_resume_is_only_for_paused_ones(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    price = fresh_standin.add_price(recurring={"interval": "month"})["id"]
    active = fresh_standin.add_subscription(price=price)
    paused = fresh_standin.add_subscription(price=price, status="paused")

    with pytest.raises(stripe.InvalidRequestError, match="Only paused subscriptions"):
        stripe_client.v1.subscriptions.resume(active["id"])

    assert stripe_client.v1.subscriptions.resume(paused["id"]).status == "active"


# --- webhook endpoints ---


def test_webhook_endpoint_create_list_update_and_delete(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    seeded = fresh_standin.add_webhook_endpoint(url="https://old.example/hook")
    created = stripe_client.v1.webhook_endpoints.create(
        params={
            "url": "https://shop.example/api/webhook",
            "enabled_events": ["checkout.session.completed", "customer.subscription.deleted"],
            "description": "shop",
            "api_version": stripe.api_version,  # type: ignore[typeddict-item]
        }
    )

    listed = stripe_client.v1.webhook_endpoints.list()
    disabled = stripe_client.v1.webhook_endpoints.update(
        created.id, params={"disabled": True, "enabled_events": ["*"]}
    )
    stripe_client.v1.webhook_endpoints.delete(seeded["id"])

    assert created.secret is not None and created.secret.startswith("whsec_")
    assert seeded["secret"].startswith("whsec_") and seeded["enabled_events"] == ["*"]
    assert [e.id for e in listed.data] == [created.id, seeded["id"]]
    assert "secret" not in listed.data[0]  # Stripe shows it only on create
    assert (created.status, created.api_version, created.description) == (
        "enabled",
        stripe.api_version,
        "shop",
    )
    assert (disabled.status, disabled.enabled_events) == ("disabled", ["*"])
    assert list(fresh_standin.webhook_endpoints) == [created.id]


def test_webhook_endpoint_rejects_unknown_event_type(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.webhook_endpoints.create(
            params={"url": "https://x.example/h", "enabled_events": ["checkout.session.finished"]}  # type: ignore[list-item]
        )

    assert raised.value.param == "enabled_events[0]"


# --- embedded Checkout ---


def test_embedded_session_has_a_client_secret_and_no_url(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "ui_mode": "embedded_page",
            "return_url": "https://shop.example/return?session={CHECKOUT_SESSION_ID}",
            "line_items": [{"price": fresh_standin.add_price()["id"], "quantity": 1}],
        }
    )

    assert session.url is None and session.ui_mode == "embedded_page"
    assert session.client_secret is not None
    assert session.client_secret.startswith(f"{session.id}_secret_")
    assert session.return_url == "https://shop.example/return?session={CHECKOUT_SESSION_ID}"
    assert (session.success_url, session.redirect_on_completion) == (None, "always")


def test_hosted_session_may_omit_success_url(
    fresh_standin: StripeStandIn, stripe_client: stripe.StripeClient
) -> None:
    params = {
        "mode": "payment",
        "line_items": [{"price": fresh_standin.add_price()["id"], "quantity": 1}],
    }

    session = stripe_client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]

    assert (session.ui_mode, session.url) == ("hosted_page", f"{fresh_standin.url}/c/pay/{session.id}")
    assert session.client_secret is None


@pytest.mark.parametrize(
    ("extra", "param", "message"),
    [
        ({"ui_mode": "embedded", "return_url": "https://x.example"}, "ui_mode", "must be one of"),
        (
            {
                "ui_mode": "embedded_page",
                "return_url": "https://x.example",
                "success_url": "https://y",
            },
            "success_url",
            "not supported with 'ui_mode: embedded_page': success_url",
        ),
        ({"ui_mode": "embedded_page"}, "return_url", "Missing required param: return_url"),
        (
            {
                "ui_mode": "embedded_page",
                "redirect_on_completion": "never",
                "return_url": "https://x",
            },
            "return_url",
            "`redirect_on_completion` is `never`",
        ),
        ({"return_url": "https://x.example"}, "return_url", "'ui_mode: hosted_page': return_url"),
    ],
)
def test_ui_mode_decides_which_urls_a_session_takes(
    fresh_standin: StripeStandIn,
    stripe_client: stripe.StripeClient,
    extra: dict[str, Any],
    param: str,
    message: str,
) -> None:
    params: Any = {
        "mode": "payment",
        "line_items": [{"price": fresh_standin.add_price()["id"], "quantity": 1}],
        **extra,
    }

    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params=params)

    assert (raised.value.http_status, raised.value.param) == (400, param)
    assert message in str(raised.value.user_message)
