"""Every movement of money, as decisions and as order facts. Pure: no store.

The decisions are table-driven, one row per event type and API shape, built from Stripe's own example
objects (`fixtures3.json`, through `tests.fakes`). The model tests feed every arrival order.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from shared.events.decide import HANDLED_TYPES, Ignored, decide
from shared.events.shape import OBJECTS, event_problem
from shared.money import session_amounts
from shared.orders import money
from shared.orders.changes import InvoiceLink, OrderChange, PaymentChange, SubscriptionChange
from shared.orders.fulfilment import receipt_text
from shared.orders.model import Change, apply, apply_to_invoice, due_for_fulfilment
from tests.fakes import (
    charge_of,
    make_charge,
    make_dispute,
    make_event,
    make_fraud_warning,
    make_invoice,
    make_invoice_payment,
    make_refund,
    make_session,
    make_subscription,
    make_subscription_session,
)

PI = "pi_money1"
CH = charge_of(PI)


def test_stripe_lists_at_most_twenty_types_per_call_and_reconcile_asks_in_twenties():
    from shared.events.recovery import TYPES_PER_LIST

    assert TYPES_PER_LIST == 20 and len(set(HANDLED_TYPES)) == len(HANDLED_TYPES)
    assert set(OBJECTS) == set(HANDLED_TYPES)


# --- decisions: one row per event type and shape -----------------------------------------------------

def refund_row(kind: str, status: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    return (kind, "any", make_refund(PI, refund_id="re_1", amount=700, status=status, created=50),
            {"payment_intent": PI, "refunds": ({"id": "re_1", "amount": 700, "currency": "usd", "status": status,
                                                 "created": 50, "charge": CH},)})


DECISIONS = [
    ("charge.refunded", "basil", make_charge(PI, amount_refunded=1000),
     {"payment_intent": PI, "invoice_id": None, "refunds": (),
      "charge": {"id": CH, "amount": 3000, "amount_refunded": 1000, "currency": "usd"}}),
    ("charge.refunded", "acacia (names its invoice)", make_charge(PI, invoice="in_first"),
     {"payment_intent": PI, "invoice_id": "in_first"}),
    ("charge.refunded", "2020 (lists its refunds)",
     make_charge(PI, amount_refunded=3000, refunds=[make_refund(PI, refund_id="re_a", amount=3000, created=40)]),
     {"refunds": ({"id": "re_a", "amount": 3000, "currency": "usd", "status": "succeeded", "created": 40,
                   "charge": CH},)}),
    refund_row("charge.refund.updated", "failed"),
    refund_row("refund.created", "pending"),
    refund_row("refund.updated", "succeeded"),
    refund_row("refund.failed", "failed"),
    ("charge.dispute.created", "any", make_dispute(PI, status="warning_needs_response", dispute_id="dp_1"),
     {"payment_intent": PI, "dispute": {"id": "dp_1", "status": "warning_needs_response", "open": True,
                                        "reason": "general", "amount": 3000, "currency": "usd", "charge": CH}}),
    ("charge.dispute.closed", "won", make_dispute(PI, status="won"), {"dispute_open": False, "status": "won"}),
    ("charge.dispute.closed", "lost", make_dispute(PI, status="lost"), {"dispute_open": False, "status": "lost"}),
    ("charge.dispute.closed", "warning_closed", make_dispute(PI, status="warning_closed"),
     {"dispute_open": False, "status": "warning_closed"}),
    ("radar.early_fraud_warning.created", "any", make_fraud_warning(PI),
     {"payment_intent": PI, "fraud_type": "made_with_stolen_card"}),
    ("customer.subscription.trial_will_end", "any", make_subscription("sub_1", status="trialing", trial_end=900),
     {"subscription_id": "sub_1", "notice": {"kind": "trial_will_end", "trial_end": 900}}),
    ("invoice.paid", "basil", make_invoice("in_2", "sub_1"),
     {"subscription_id": "sub_1", "link": InvoiceLink("in_2", None, {
         "subscription_id": "sub_1", "billing_reason": "subscription_cycle", "amount_total": 500,
         "currency": "usd", "paid_at": 100})}),
    ("invoice.paid", "basil, payments included", make_invoice("in_2", "sub_1", payment_intent=PI, listed_payment=True),
     {"subscription_id": "sub_1", "link_payment_intent": PI}),
    ("invoice.paid", "acacia", make_invoice("in_2", "sub_1", shape="acacia", payment_intent=PI),
     {"subscription_id": "sub_1", "link_payment_intent": PI}),
    ("invoice.payment_failed", "basil", make_invoice("in_3", "sub_1", status="open"),
     {"subscription_id": "sub_1", "link": None}),
    ("invoice.payment_action_required", "basil", make_invoice("in_4", "sub_1", status="open"),
     {"subscription_id": "sub_1", "notice_url": "https://invoice.stripe.com/i/acct_test/in_4"}),
    ("invoice.payment_action_required", "acacia", make_invoice("in_4", "sub_1", shape="acacia", status="open"),
     {"subscription_id": "sub_1", "notice_url": "https://invoice.stripe.com/i/acct_test/in_4"}),
    ("invoice_payment.paid", "basil", make_invoice_payment("in_5", PI), {"decision": InvoiceLink("in_5", PI)}),
    ("checkout.session.completed", "subscription mode",
     make_subscription_session("cs_test_sub1", invoice="in_first", subscription="sub_1"),
     {"session": {"invoice": "in_first", "subscription": "sub_1"}}),
]


@pytest.mark.parametrize(("event_type", "shape", "obj", "expected"), DECISIONS,
                         ids=[f"{row[0]}|{row[1]}" for row in DECISIONS])
def test_each_money_event_decides_what_stripe_says(event_type, shape, obj, expected):
    event = make_event(event_type, obj, created=100)
    assert event_problem(event) is None
    decision = decide(event)
    assert not isinstance(decision, Ignored), decision
    for name, value in expected.items():
        if name == "dispute_open":
            assert decision.change.dispute["open"] is value
        elif name == "status":
            assert decision.change.dispute["status"] == value
        elif name == "fraud_type":
            assert decision.change.fraud_warning["fraud_type"] == value
        elif name == "link_payment_intent":
            assert decision.link.payment_intent == value
        elif name == "notice_url":
            assert decision.notice["hosted_invoice_url"] == value
            assert decision.notice["kind"] == "payment_action_required"
        elif name == "session":
            assert isinstance(decision, OrderChange)
            assert {k: decision.change.session[k] for k in value} == value
            assert "payment_intent" not in decision.change.session
        elif name == "decision":
            assert decision == value
        elif isinstance(decision, PaymentChange) and name in ("refunds", "charge", "dispute"):
            assert getattr(decision.change, name) == value
        else:
            assert getattr(decision, name) == value, name


@pytest.mark.parametrize(("event_type", "obj", "reason"), [
    ("radar.early_fraud_warning.created", make_fraud_warning(None), "early fraud warning without a payment intent"),
    ("refund.created", {**make_refund(PI), "payment_intent": None}, "refund without a payment intent"),
    ("refund.updated", {**make_refund(PI), "status": None}, "refund without a payment intent, an amount or a status"),
    ("invoice_payment.paid", {**make_invoice_payment("in_1", PI), "payment": {"type": "charge"}},
     "invoice payment without"),
    ("invoice.payment_action_required", {**make_invoice("in_1", "sub_1"), "parent": None},
     "invoice without a subscription"),
])
def test_money_events_that_name_nothing_of_ours_are_ignored(event_type, obj, reason):
    decision = decide(make_event(event_type, obj))
    assert isinstance(decision, Ignored) and decision.reason.startswith(reason)


def test_a_refund_without_an_id_is_invalid_payload_naming_it():
    assert event_problem(make_event("refund.failed", {**make_refund(PI), "id": None})) == \
        "data.object.id is required for refund.failed, as an ID"


# --- what the buyer paid, in both shapes --------------------------------------------------------------

def test_presentment_is_read_from_both_api_shapes():
    basil = make_session(amount_total=3000, currency="usd",
                         presentment_details={"presentment_amount": 2790, "presentment_currency": "eur"})
    acacia = make_session(amount_total=2790, currency="eur", currency_conversion={
        "amount_total": 3000, "amount_subtotal": 3000, "fx_rate": "0.93", "source_currency": "usd"})
    for session in (basil, acacia):
        amounts = session_amounts(session)
        assert (amounts["amount_total"], amounts["currency"]) == (3000, "usd")
        assert amounts["presentment"] == {"amount": 2790, "currency": "eur"}
    assert "presentment" not in session_amounts(make_session())


def test_the_receipt_shows_what_the_buyer_paid_first():
    order = {"session_id": "cs_1", "amount_total": 3000, "currency": "usd",
             "presentment": {"amount": 2790, "currency": "eur"}, "line_items": []}
    assert "Total: 27.90 EUR (30.00 USD)" in receipt_text(order)
    assert "Total: 30.00 USD\n" in receipt_text({**order, "presentment": None})


# --- the order's facts, in every arrival order ---------------------------------------------------------

def completed(created: int = 100) -> Change:
    return Change("evt_done", "checkout.session.completed", created, fact="paid",
                  session={"amount_total": 3000, "currency": "usd"})


def refund(event_id: str, status: str, at: int, *, refund_id: str = "re_1", amount: int = 3000,
           created: int = 150) -> Change:
    return Change(event_id, f"refund.{status}", at, refunds=({"id": refund_id, "amount": amount, "currency": "usd",
                                                             "status": status, "created": created, "charge": CH},))


def cumulative(event_id: str, at: int, amount_refunded: int) -> Change:
    return Change(event_id, "charge.refunded", at, charge={"id": CH, "amount": 3000, "amount_refunded": amount_refunded,
                                                            "currency": "usd"})


def dispute(event_id: str, status: str, at: int, *, is_open: bool) -> Change:
    return Change(event_id, "charge.dispute", at, dispute={"id": "dp_1", "status": status, "open": is_open,
                                                           "amount": 3000, "currency": "usd", "charge": CH})


def every_order(changes: list[Change]) -> list[dict[str, Any]]:
    """The order after each arrival order of `changes`, each delivered twice."""
    finals: list[dict[str, Any]] = []
    for permutation in itertools.permutations(changes):
        order = None
        for change in [*permutation, *permutation]:
            order = apply(order, "cs_1", change) or order
        assert order is not None
        finals.append(order)
    return finals


def only(values: list[Any]) -> Any:
    assert len({repr(v) for v in values}) == 1, values
    return values[0]


@pytest.mark.parametrize(("changes", "status", "refunded"), [
    # One refund seen both ways counts once.
    ([completed(), refund("e1", "succeeded", 150), cumulative("e2", 150, 3000)], "refunded", 3000),
    # A refund that fails is taken back out, whichever figure told of it.
    ([completed(), refund("e1", "pending", 150), refund("e2", "failed", 400)], "paid", 0),
    ([completed(), cumulative("e1", 150, 3000), refund("e2", "failed", 400)], "paid", 0),
    ([completed(), refund("e0", "pending", 150), cumulative("e1", 150, 3000), refund("e2", "failed", 400)], "paid", 0),
    # Two partial refunds, one failing; the cumulative figure was taken before the failure.
    ([completed(), refund("e1", "succeeded", 150, refund_id="re_a", amount=1000),
      refund("e2", "pending", 160, refund_id="re_b", amount=2000, created=160), cumulative("e3", 160, 3000),
      refund("e4", "failed", 500, refund_id="re_b", amount=2000, created=160)], "partially_refunded", 1000),
    # A figure taken after the failure already excludes it: nothing is subtracted twice.
    ([completed(), refund("e1", "failed", 300, refund_id="re_b", amount=2000, created=160),
      refund("e2", "succeeded", 150, refund_id="re_a", amount=1000), cumulative("e3", 400, 1000)],
     "partially_refunded", 1000),
    # A refund created after the cumulative figure adds to it.
    ([completed(), cumulative("e1", 150, 1000), refund("e2", "succeeded", 300, refund_id="re_c", amount=500,
                                                         created=300)], "partially_refunded", 1500),
    # A canceled refund does not count either.
    ([completed(), refund("e1", "pending", 150), refund("e2", "canceled", 200)], "paid", 0),
])
def test_the_refunded_amount_comes_from_the_refunds_in_any_order(changes, status, refunded):
    finals = every_order(changes)
    assert only([o["status"] for o in finals]) == status
    assert only([money.amount_refunded(o) for o in finals]) == refunded


@pytest.mark.parametrize(("outcome", "status"), [
    ("won", "paid"), ("warning_closed", "paid"), ("prevented", "paid"), ("lost", "dispute_lost")])
def test_a_dispute_outcome_decides_where_the_order_lands(outcome, status):
    changes = [completed(), dispute("d1", "needs_response", 200, is_open=True),
               dispute("d2", "under_review", 250, is_open=True), dispute("d3", outcome, 300, is_open=False)]
    finals = every_order(changes)
    assert only([o["status"] for o in finals]) == status
    assert only([o["dispute"]["outcome"] for o in finals]) == outcome


def test_a_closed_dispute_stays_closed_even_beside_a_later_stamped_open_one():
    # Stripe's clock ties, or a stale update: the outcome is final either way.
    changes = [completed(), dispute("d3", "lost", 300, is_open=False), dispute("d2", "under_review", 300, is_open=True)]
    assert only([o["status"] for o in every_order(changes)]) == "dispute_lost"


def test_a_lost_dispute_is_final_and_counted_as_money_lost():
    changes = [completed(), dispute("d1", "lost", 300, is_open=False), refund("e1", "succeeded", 400, amount=500)]
    finals = every_order(changes)
    assert only([o["status"] for o in finals]) == "dispute_lost"
    assert only([money.amount_lost(o) for o in finals]) == 3000


def test_open_or_lost_disputes_hold_fulfilment_back_and_won_ones_release_it():
    opened = apply(None, "cs_1", dispute("d1", "needs_response", 90, is_open=True))
    order = apply(opened, "cs_1", completed())
    assert order["status"] == "disputed" and not due_for_fulfilment(order)
    lost = apply(order, "cs_1", dispute("d2", "lost", 300, is_open=False))
    assert lost["status"] == "dispute_lost" and not due_for_fulfilment(lost)
    won = apply(order, "cs_1", dispute("d2", "won", 300, is_open=False))
    assert won["status"] == "paid" and due_for_fulfilment(won)


def test_a_fraud_warning_is_recorded_without_changing_the_status():
    warning = Change("w1", "radar.early_fraud_warning.created", 200,
                     fraud_warning={"id": "issfr_1", "fraud_type": "misc", "actionable": True, "charge": CH})
    finals = every_order([completed(), warning])
    assert only([o["status"] for o in finals]) == "paid"
    assert only([list(o["fraud_warnings"]) for o in finals]) == ["issfr_1"]


def test_refunds_in_the_buyers_currency_are_measured_against_what_the_buyer_paid():
    # Before 2025-03-31, Adaptive Pricing charged (and refunded) in the buyer's currency.
    session = Change("evt_done", "checkout.session.completed", 100, fact="paid", session={
        "amount_total": 3000, "currency": "usd", "presentment": {"amount": 2790, "currency": "eur"}})
    partial = Change("e1", "refund.created", 200, refunds=({"id": "re_1", "amount": 1000, "currency": "eur",
                                                            "status": "succeeded", "created": 200, "charge": CH},))
    full = Change("e2", "refund.created", 210, refunds=({"id": "re_2", "amount": 1790, "currency": "eur",
                                                         "status": "succeeded", "created": 210, "charge": CH},))
    assert only([o["status"] for o in every_order([session, partial])]) == "partially_refunded"
    assert only([o["status"] for o in every_order([session, partial, full])]) == "refunded"


def test_a_renewal_invoice_record_takes_the_same_rules():
    record = apply_to_invoice(None, "in_2", refund("e1", "succeeded", 200, amount=200))
    assert record is not None and record["invoice_id"] == "in_2" and record["status"] == "refunded"
    record = apply_to_invoice({**record, "amount_total": 500, "currency": "usd"}, "in_2",
                              dispute("d1", "needs_response", 300, is_open=True))
    assert record is not None and record["status"] == "disputed"
    assert record["refund"] == {"amount_refunded": 200, "amount": 500, "currency": "usd"}


def test_changes_parked_before_money_facts_were_kept_by_id_still_apply():
    legacy = {"event_id": "e_old", "type": "charge.refunded", "created": 200,
              "refund": {"amount_refunded": 1000, "amount": 3000}}
    order = apply(apply(None, "cs_1", completed()), "cs_1", Change.from_dict(legacy))
    assert order is not None and order["status"] == "partially_refunded"
    old_dispute = {"event_id": "e_d", "type": "charge.dispute.created", "created": 300,
                   "dispute": {"id": "dp_9", "open": True}}
    assert apply(order, "cs_1", Change.from_dict(old_dispute))["status"] == "disputed"


def test_an_order_stored_before_money_facts_keeps_its_refund_through_the_next_change():
    stored = {"session_id": "cs_1", "facts": {"paid": 100}, "history": [], "amount_total": 3000, "currency": "usd",
              "refund": {"amount_refunded": 1000, "amount": 3000, "created": 200}, "status": "partially_refunded"}
    after = apply(stored, "cs_1", Change("e_x", "checkout.session.expired", 300, fact="expired"))
    assert after is not None and after["status"] == "partially_refunded"
    assert after["refund"]["amount_refunded"] == 1000


def test_a_subscription_decision_links_nothing_it_does_not_know():
    decision = decide(make_event("invoice.paid", make_invoice("in_7", "sub_7")))
    assert isinstance(decision, SubscriptionChange) and decision.link is not None
    assert decision.link.payment_intent is None  # basil: the link comes with invoice_payment.paid
