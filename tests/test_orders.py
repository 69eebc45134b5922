"""The order's status is derived from facts, so arrival order does not matter."""

import itertools

import pytest

from shared.events.decide import decide
from shared.money import format_amount
from shared.orders.changes import OrderChange, PaymentChange
from shared.orders.model import Change, apply, due_for_fulfilment, status_of
from tests.fakes import make_charge, make_dispute, make_event, make_session

SID = "cs_test_order1"


def run(changes):
    order = None
    for change in changes:
        after = apply(order, SID, change)
        order = after if after is not None else order
    return order


def completed(created=100, payment_status="paid"):
    return Change("evt_c", "checkout.session.completed", created, session={"amount_total": 3000}, fact=(
        "paid" if payment_status == "paid" else "awaiting_payment"))


def refunded(created=200, amount_refunded=3000):
    return Change("evt_r", "charge.refunded", created,
                  charge={"id": "ch_1", "amount_refunded": amount_refunded, "amount": 3000, "currency": "usd"})


def expired(created=300):
    return Change("evt_e", "checkout.session.expired", created, fact="expired")


def test_completed_and_paid_is_paid_and_due_for_fulfilment():
    order = run([completed()])
    assert order["status"] == "paid" and due_for_fulfilment(order)


def test_unpaid_completion_awaits_payment():
    assert run([completed(payment_status="unpaid")])["status"] == "awaiting_payment"


def test_refund_before_completion_ends_refunded():
    assert run([refunded(), completed()])["status"] == "refunded"


def test_late_completed_after_refund_does_not_undo_it():
    assert run([completed(100), refunded(200), Change("evt_c2", "checkout.session.completed", 300,
                                                      fact="paid")])["status"] == "refunded"


def test_expired_after_paid_stays_paid():
    assert run([completed(), expired()])["status"] == "paid"


def test_partial_refund():
    assert run([completed(), refunded(amount_refunded=1000)])["status"] == "partially_refunded"


def test_cumulative_refunds_keep_the_latest():
    later = Change("evt_r2", "charge.refunded", 400, charge={"id": "ch_1", "amount_refunded": 3000, "amount": 3000})
    for order in itertools.permutations([completed(), refunded(200, 1000), later]):
        assert run(order)["status"] == "refunded"


def test_dispute_opens_and_closes_back_with_outcome():
    opened = Change("evt_d1", "charge.dispute.created", 200,
                    dispute={"id": "dp_1", "status": "needs_response", "open": True})
    closed = Change("evt_d2", "charge.dispute.closed", 300, dispute={"id": "dp_1", "status": "won", "open": False})
    assert run([completed(), opened])["status"] == "disputed"
    for order in itertools.permutations([completed(), opened, closed]):
        final = run(order)
        assert final["status"] == "paid" and final["dispute"]["outcome"] == "won"


@pytest.mark.parametrize("events", list(itertools.permutations(["completed", "refunded", "expired"])))
def test_any_arrival_order_gives_the_same_status(events):
    made = {"completed": completed(), "refunded": refunded(), "expired": expired()}
    assert run([made[e] for e in events])["status"] == "refunded"


def test_the_same_event_twice_changes_nothing():
    order = run([completed()])
    assert apply(order, SID, completed()) is None


def test_history_records_each_event_with_its_resulting_status():
    order = run([completed(), refunded()])
    assert [(h["event_id"], h["status"]) for h in order["history"]] == [("evt_c", "paid"), ("evt_r", "refunded")]


def test_refunded_before_fulfilment_is_not_fulfilled():
    assert not due_for_fulfilment(run([refunded(), completed()]))


def test_status_of_empty_order_is_open():
    assert status_of({"facts": {}}) == "open"


def test_decide_maps_completed_session_to_order_change_with_items():
    decision = decide(make_event("checkout.session.completed", make_session(SID)))
    assert isinstance(decision, OrderChange) and decision.session_id == SID
    assert decision.change.fact == "paid"
    assert decision.change.session["line_items"][0]["description"] == "T-shirt"
    assert decision.change.session["customer_email"] == "buyer@example.com"


def test_decide_maps_refund_and_dispute_to_payment_changes():
    refund = decide(make_event("charge.refunded", make_charge("pi_9", amount_refunded=500)))
    dispute = decide(make_event("charge.dispute.created", make_dispute("pi_9")))
    assert isinstance(refund, PaymentChange) and refund.payment_intent == "pi_9"
    assert refund.change.charge == {"id": refund.change.charge["id"], "amount_refunded": 500, "amount": 3000,
                                    "currency": "usd"}
    assert isinstance(dispute, PaymentChange) and dispute.change.dispute["open"] is True


def test_decide_reads_invoice_subscription_in_old_and_new_shapes():
    old = decide(make_event("invoice.paid", {"id": "in_1", "subscription": "sub_1"}))
    new = decide(make_event("invoice.paid",
                            {"id": "in_2", "parent": {"subscription_details": {"subscription": "sub_2"}}}))
    assert old.subscription_id == "sub_1" and new.subscription_id == "sub_2"


def test_format_amount_knows_zero_decimal_currencies():
    assert format_amount(1250, "usd") == "12.50 USD"
    assert format_amount(500, "jpy") == "500 JPY"


def test_format_amount_knows_three_decimal_currencies():
    assert format_amount(1250, "kwd") == "1.250 KWD"
