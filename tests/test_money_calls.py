"""How many store calls (each one DynamoDB request) each event costs, pinned (issue 16): a new order is one
read and one transaction, three with the seller's hook (its order lease ended with the event's in one more
write); no event costs more than three; a duplicate costs one read.

    python -m pytest tests/test_money_calls.py -q -s    # prints the table
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller
from tests.fakes import (
    CountingStore,
    MemoryStore,
    RecordingAction,
    RecordingNotices,
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


def new(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def scenario() -> list[tuple[str, str, dict[str, Any], Fulfiller | None]]:
    """(label, type, object, fulfiller) in the order Stripe usually sends them."""
    pi = new("pi")
    session = make_session(payment_intent=pi)
    sub_session = make_subscription_session(invoice=(first := new("in")), subscription=(sub := new("sub")))
    first_pi, renewal, renewal_pi, acacia, acacia_pi = new("pi"), new("in"), new("pi"), new("in"), new("pi")
    late, late_pi = new("in"), new("pi")
    with_hook = Fulfiller([RecordingAction()], notify=RecordingNotices())
    return [
        ("new order (payment), no actions", "checkout.session.completed", session, Fulfiller([])),
        ("new order (subscription), no actions", "checkout.session.completed", sub_session, Fulfiller([])),
        ("new order (payment), with a hook", "checkout.session.completed", make_session(payment_intent=new("pi")),
         with_hook),
        ("invoice.paid (basil)", "invoice.paid", make_invoice(first, sub, billing_reason="subscription_create"), None),
        ("invoice_payment.paid", "invoice_payment.paid", make_invoice_payment(first, first_pi), None),
        ("invoice.paid (acacia: names its payment)", "invoice.paid",
         make_invoice(acacia, sub, shape="acacia", payment_intent=acacia_pi), None),
        ("refund of a one-time order", "refund.created", make_refund(pi, amount=1000), None),
        ("charge.refunded of a one-time order", "charge.refunded", make_charge(pi, amount_refunded=1000), None),
        ("refund of a subscription purchase", "charge.refunded", make_charge(first_pi, amount=500), None),
        # Linked to its invoice before the session named the invoice: two hops, PAYMENT# then INVOICE#.
        ("payment linked before its session", "invoice_payment.paid", make_invoice_payment(late, late_pi), None),
        ("new order (subscription) after its payment", "checkout.session.completed",
         make_subscription_session(invoice=late, subscription=new("sub")), Fulfiller([])),
        ("refund of that subscription purchase", "refund.created", make_refund(late_pi, amount=500), None),
        ("renewal paid (basil)", "invoice.paid", make_invoice(renewal, sub), None),
        ("renewal payment linked", "invoice_payment.paid", make_invoice_payment(renewal, renewal_pi), None),
        ("refund of a renewal", "refund.created", make_refund(renewal_pi, amount=100), None),
        ("dispute opened", "charge.dispute.created", make_dispute(pi), None),
        ("dispute won", "charge.dispute.closed", make_dispute(pi, status="won"), None),
        ("early fraud warning", "radar.early_fraud_warning.created", make_fraud_warning(pi), None),
        ("payment action required (hook told)", "invoice.payment_action_required", make_invoice(new("in"), sub),
         with_hook),
        ("trial will end", "customer.subscription.trial_will_end", make_subscription(sub, status="trialing"), None),
        ("refund parked before its order", "refund.created", make_refund(new("pi")), None),
    ]


BUDGET = 3  # was 6 (a claim, a link, a read and a write, a fulfilment mark, a finish) before one transaction


@pytest.mark.parametrize("backend", ["memory", "dynamodb"])
def test_each_money_event_stays_within_the_calls_a_new_order_costs(backend, request, capsys):
    inner = MemoryStore() if backend == "memory" else request.getfixturevalue("dynamo_store")
    store = CountingStore(inner)
    default = Fulfiller([])
    rows = []
    for i, (label, kind, obj, fulfiller) in enumerate(scenario()):
        event = make_event(kind, obj, created=1_700_000_000 + i)
        store.calls.clear()
        assert process(event, store, fulfiller or default) == "applied", label  # type: ignore[arg-type]
        applied = sum(store.calls.values())
        store.calls.clear()
        assert process(event, store, fulfiller or default) == "duplicate"  # type: ignore[arg-type]
        rows.append((label, applied, sum(store.calls.values())))
    with capsys.disabled():
        print(f"\nstore calls per event ({backend}): applied / duplicate")
        for label, applied, duplicate in rows:
            print(f"  {label:45} {applied} / {duplicate}")
    counts = {label: applied for label, applied, _ in rows}
    assert all(duplicate == 1 for _, _, duplicate in rows)
    assert counts["new order (payment), no actions"] == counts["new order (subscription), no actions"] == 2
    assert counts["new order (payment), with a hook"] == 3  # the hook runs between the write and its finish
    assert max(counts.values()) <= BUDGET, counts


def test_a_lost_dispute_on_a_fulfilled_order_adds_one_claim_and_its_finish():
    store = CountingStore(MemoryStore())
    fulfiller = Fulfiller([RecordingAction()], notify=RecordingNotices())
    pi = new("pi")
    process(make_event("checkout.session.completed", make_session(payment_intent=pi)), store, fulfiller)  # type: ignore[arg-type]
    store.calls.clear()
    process(make_event("charge.dispute.closed", make_dispute(pi, status="lost")), store, fulfiller)  # type: ignore[arg-type]
    # The event's read and write (the order behind the payment read on the way), the notice's own claim and
    # finish, and the event's finish: the notice runs under the event's lease.
    assert store.calls == Counter({"get_many": 1, "get": 1, "transact": 1, "claim": 1, "finish": 2})
