"""A signed event `decide` cannot read is `invalid_payload`, naming the field; a failure on an event it can
read is our bug: a logged 500 counted in `EventsFailed` (the alarm), which Stripe retries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from starlette.testclient import TestClient

import shared.events.intake as intake
from shared import telemetry
from shared.errors import InvalidRequest
from shared.events.decide import HANDLED_TYPES, decide
from shared.events.intake import check_event
from shared.events.shape import OBJECTS, event_problem
from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.services import Services
from tests.conftest import WEBHOOK_SECRET
from tests.fakes import FIXTURES, MemoryStore, make_event, make_session, signed

# Stripe's example object for each handled type's `data.object`.
EXAMPLES = {"checkout.session": "checkout.session", "charge.dispute": "dispute", "charge.refund": "refund",
            "charge": "charge", "refund": "refund", "radar.early_fraud_warning": "radar.early_fraud_warning",
            "customer.subscription": "subscription", "invoice": "invoice", "invoice_payment": "invoice_payment"}


def example(event_type: str) -> dict[str, Any]:
    prefix = next(p for p in EXAMPLES if event_type.startswith(p + "."))
    return copy.deepcopy(FIXTURES[EXAMPLES[prefix]])


def test_every_handled_type_has_its_shape():
    assert set(OBJECTS) == set(HANDLED_TYPES)


@pytest.mark.parametrize("event_type", HANDLED_TYPES)
def test_stripes_example_objects_have_the_shape_decide_reads(event_type):
    event = make_event(event_type, example(event_type))
    assert event_problem(event) is None
    decide(event)


@pytest.mark.parametrize(("event_type", "obj", "named"), [
    ("checkout.session.completed", {"payment_status": "paid"}, "data.object.id is required"),
    ("customer.subscription.updated", {"id": 7}, "data.object.id is required"),
    ("checkout.session.completed", {"id": "cs_1", "customer_details": [None]},
     "data.object.customer_details is not an object"),
    ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "amount_refunded": "3000"},
     "data.object.amount_refunded is not an integer"),
    ("invoice.paid", {"lines": {"data": [{"period": {"end": 1.5}}]}}, "data.object.lines.data[0].period.end"),
    ("customer.subscription.created", {"id": "sub_1", "items": {"data": "none"}}, "data.object.items.data is not"),
    # The sale's breakdown (orders/sale.py): each field it reads, in each API shape.
    ("checkout.session.completed", {"id": "cs_1", "total_details": {"amount_tax": "8.00"}},
     "data.object.total_details.amount_tax is not an integer"),
    ("checkout.session.completed", {"id": "cs_1", "shipping_cost": {"shipping_rate": {"id": 5}}},
     "data.object.shipping_cost.shipping_rate is not an ID"),
    ("checkout.session.completed", {"id": "cs_1", "shipping_cost": {"shipping_rate": {"display_name": 5}}},
     "data.object.shipping_cost.shipping_rate.display_name is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "collected_information": {"shipping_details": {"address": "Dublin"}}},
     "data.object.collected_information.shipping_details.address is not an object"),
    ("checkout.session.completed", {"id": "cs_1", "shipping_details": {"name": ["Ada"]}},
     "data.object.shipping_details.name is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "discounts": {"promotion_code": "promo_1"}},
     "data.object.discounts is not an array"),
    ("checkout.session.completed", {"id": "cs_1", "discounts": [{"promotion_code": {"code": 10}}]},
     "data.object.discounts[0].promotion_code.code is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "custom_fields": ["engraving"]},
     "data.object.custom_fields[0] is not an object"),
    ("checkout.session.completed", {"id": "cs_1", "custom_fields": [{"numeric": {"value": 42}}]},
     "data.object.custom_fields[0].numeric.value is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "customer_details": {"tax_ids": [{"value": 1}]}},
     "data.object.customer_details.tax_ids[0].value is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "consent": {"terms_of_service": True}},
     "data.object.consent.terms_of_service is not a string"),
    ("checkout.session.completed", {"id": "cs_1", "line_items": {"data": [{"price": {"unit_amount": 1.5}}]}},
     "data.object.line_items.data[0].price.unit_amount is not an integer"),
])
def test_a_field_of_another_shape_is_invalid_payload_naming_it(event_type, obj, named):
    with pytest.raises(InvalidRequest, match=named.replace("[", r"\[").replace("]", r"\]")) as raised:
        check_event(make_event(event_type, obj))
    assert raised.value.code == "invalid_payload"


def test_types_we_do_not_handle_need_only_the_envelope():
    assert event_problem(make_event("customer.created", {"id": ["anything"]})) is None
    assert event_problem({"id": "evt_1", "type": "x", "created": True, "data": {"object": {}}}) is not None


# --- through the webhook ------------------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch) -> list[str]:
    names: list[str] = []
    monkeypatch.setattr(telemetry, "count", lambda name, value=1: names.append(name))
    return names


@pytest.fixture
def webhook() -> tuple[TestClient, MemoryStore]:
    store = MemoryStore()
    services = Services(Settings.from_env({"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}), store=store,
                        fulfiller=Fulfiller([]))
    return TestClient(create_app(services), raise_server_exceptions=False), store


def deliver(client: TestClient, event: dict[str, Any]) -> Any:
    body, headers = signed(event, WEBHOOK_SECRET)
    return client.post("/api/webhook", content=body, headers=headers)


def test_an_event_decide_fails_on_is_a_counted_logged_500_that_the_retry_applies(webhook, counted, monkeypatch,
                                                                                   capfd):
    client, store = webhook
    event = make_event("checkout.session.completed", make_session())

    def broken(event: dict[str, Any]) -> Any:
        raise KeyError("a field our code wrongly needs")

    monkeypatch.setattr(intake, "decide", broken)
    response = deliver(client, event)
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
    assert "EventsFailed" in counted and "InvalidPayloads" not in counted
    assert event["id"] in capfd.readouterr().err  # logged, by the event's id
    assert store.items == {}  # nothing claimed: Stripe's retry starts over

    monkeypatch.setattr(intake, "decide", decide)
    assert deliver(client, event).json()["outcome"] == "applied"


def test_a_shape_decide_cannot_read_is_a_counted_400_naming_the_field(webhook, counted):
    client, store = webhook
    session = make_session()
    del session["id"]
    response = deliver(client, make_event("checkout.session.completed", session))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_payload"
    assert "data.object.id" in response.json()["error"]["message"]
    assert "InvalidPayloads" in counted and "EventsFailed" not in counted
    assert store.items == {}


def test_recorded_items_metadata_that_is_not_a_list_is_read_as_no_items(webhook):
    # Metadata is the seller's to edit; `5` there once raised TypeError out of decide (a silent 400).
    client, store = webhook
    session = make_session(metadata={"static_checkout_items": "5"})
    assert deliver(client, make_event("checkout.session.completed", session)).json()["outcome"] == "applied"
    assert store.get(f"ORDER#{session['id']}")["status"] == "paid"
