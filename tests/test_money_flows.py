"""Every movement of money reaches its record, through the webhook's processing and the real store
(each test runs on the in-memory store and on DynamoDB over HTTP), in both API shapes, in shuffled
and duplicated arrival orders, and concurrently."""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.errors import DomainError
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller, FulfilmentFailed
from shared.store.keys import invoice_key, order_key, subscription_key
from tests.fakes import (
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

SHAPES = ["basil", "acacia"]  # since 2025-03-31, and before


@pytest.fixture
def notices() -> RecordingNotices:
    return RecordingNotices()


@pytest.fixture
def notifying_fulfiller(hook, notices) -> Fulfiller:
    return Fulfiller([hook], notify=notices, lease_seconds=60)


def new(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def events(*pairs: tuple[str, dict[str, Any]], start: int | None = None) -> list[dict[str, Any]]:
    """Events stamped a second apart, in the order Stripe would have created them."""
    base = int(time.time()) - 600 if start is None else start
    return [make_event(kind, obj, created=base + i) for i, (kind, obj) in enumerate(pairs)]


def deliver(store: Any, notifying_fulfiller: Fulfiller, batch: list[dict[str, Any]], *, seed: int,
            concurrent: bool = False) -> None:
    """Every event once or twice, shuffled; like Stripe, retry whatever did not get a 2xx."""
    rng = random.Random(seed)
    deliveries = batch + rng.sample(batch, max(1, len(batch) // 2))
    rng.shuffle(deliveries)

    def one(event: dict[str, Any]) -> None:
        for _ in range(400):
            try:
                process(event, store, notifying_fulfiller)
                return
            except DomainError:  # in progress, busy: Stripe retries
                time.sleep(0.005)
        raise AssertionError(f"{event['type']} never applied")

    if concurrent:
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(one, event) for event in deliveries]:
                future.result()
    else:
        for event in deliveries:
            one(event)


def fulfilled_once_if_at_all(store: Any, hook: RecordingAction, session_id: str) -> bool:
    order = store.get(order_key(session_id))
    assert hook.calls.count(session_id) == (1 if order.get("done_at") else 0)
    return order.get("done_at") is not None


def subscription_purchase(shape: str) -> tuple[str, str, str, str, list[tuple[str, dict[str, Any]]]]:
    """The events of a subscription bought through Checkout: its session names its first invoice;
    the invoice (acacia) or `invoice_payment.paid` (basil) names the payment."""
    session_id, invoice, sub, pi = new("cs_test"), new("in"), new("sub"), new("pi")
    pairs = [("checkout.session.completed", make_subscription_session(session_id, invoice=invoice, subscription=sub)),
             ("invoice.paid", make_invoice(invoice, sub, shape=shape, payment_intent=pi,
                                           billing_reason="subscription_create"))]
    if shape == "basil":
        pairs.append(("invoice_payment.paid", make_invoice_payment(invoice, pi)))
    return session_id, invoice, sub, pi, pairs


@pytest.mark.parametrize("shape", SHAPES)
def test_a_refunded_subscription_purchase_ends_refunded(store, notifying_fulfiller, hook, shape):
    for seed in range(4):
        session_id, invoice, _, pi, pairs = subscription_purchase(shape)
        refund = make_refund(pi, amount=500)
        charge = make_charge(pi, amount=500, amount_refunded=500, invoice=invoice if shape == "acacia" else None)
        pairs += [("charge.refunded", charge)] + ([("refund.created", refund)] if shape == "basil" else [])
        deliver(store, notifying_fulfiller, events(*pairs), seed=seed)
        order = store.get(order_key(session_id))
        assert order["status"] == "refunded", (seed, order["status"])
        assert order["refund"]["amount_refunded"] == 500  # one refund, told twice in basil, counted once
        fulfilled_once_if_at_all(store, hook, session_id)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_disputed_subscription_purchase_ends_disputed_then_lost(store, notifying_fulfiller, hook, notices, shape):
    for seed in range(3):
        session_id, _, _, pi, pairs = subscription_purchase(shape)
        deliver(store, notifying_fulfiller, events(*pairs, ("charge.dispute.created", make_dispute(pi, amount=500))),
                seed=seed, concurrent=seed == 2)
        assert store.get(order_key(session_id))["status"] == "disputed"
        lost = events(("charge.dispute.closed", make_dispute(pi, status="lost", amount=500)), start=int(time.time()))
        deliver(store, notifying_fulfiller, lost, seed=seed)
        order = store.get(order_key(session_id))
        assert order["status"] == "dispute_lost" and order["dispute"]["amount"] == 500
        told = [n for n in notices.notices if n["kind"] == "dispute_lost" and n["order"]["session_id"] == session_id]
        assert len(told) == (1 if fulfilled_once_if_at_all(store, hook, session_id) else 0)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_renewal_refund_reaches_the_subscriptions_invoice_record(store, notifying_fulfiller, hook, shape):
    for seed in range(3):
        session_id, _, sub, _, first = subscription_purchase(shape)
        renewal, pi = new("in"), new("pi")
        pairs = [*first, ("invoice.paid", make_invoice(renewal, sub, shape=shape, payment_intent=pi))]
        if shape == "basil":
            pairs.append(("invoice_payment.paid", make_invoice_payment(renewal, pi)))
        pairs += [("refund.created", make_refund(pi, amount=200, status="pending")),
                  ("refund.updated", make_refund(pi, amount=200, status="succeeded"))]
        pairs[-1][1]["id"] = pairs[-2][1]["id"]  # the same refund, pending then succeeded
        deliver(store, notifying_fulfiller, events(*pairs), seed=seed, concurrent=seed == 2)
        record = store.get(invoice_key(renewal))
        assert record["status"] == "partially_refunded" and record["subscription_id"] == sub
        assert record["refund"] == {"amount_refunded": 200, "amount": 500, "currency": "usd"}
        assert store.get(order_key(session_id))["status"] == "paid"  # the purchase itself was not refunded
        assert fulfilled_once_if_at_all(store, hook, session_id)
        assert store.get(subscription_key(sub))["latest_invoice"]["status"] == "paid"


def test_a_renewal_refunded_before_its_invoice_is_known_waits_then_lands(store, notifying_fulfiller):
    sub, renewal, pi = new("sub"), new("in"), new("pi")
    refund = events(("refund.created", make_refund(pi, amount=500)), start=int(time.time()) - 100)
    deliver(store, notifying_fulfiller, refund, seed=1)
    assert store.get(invoice_key(renewal)) is None  # parked under the payment intent
    deliver(store, notifying_fulfiller, events(("invoice.paid", make_invoice(renewal, sub)),
                                     ("invoice_payment.paid", make_invoice_payment(renewal, pi))), seed=1)
    assert store.get(invoice_key(renewal))["status"] == "refunded"


def test_a_first_invoice_refunded_before_its_session_arrives_moves_to_the_order(store, notifying_fulfiller, hook):
    # The subscription's first invoice is refunded while `checkout.session.completed` is still being
    # retried: the invoice record holds the refund, then hands it to the order.
    session_id, invoice, _, pi, pairs = subscription_purchase("basil")
    session, rest = pairs[0], pairs[1:]
    deliver(store, notifying_fulfiller, events(*rest, ("refund.created", make_refund(pi, amount=500))), seed=3)
    assert store.get(invoice_key(invoice))["status"] == "refunded"
    deliver(store, notifying_fulfiller, events(session), seed=3)
    assert store.get(order_key(session_id))["status"] == "refunded"
    record = store.get(invoice_key(invoice))
    assert record["status"] == "on_order" and record["refund"] is None and record["session_id"] == session_id
    assert hook.calls.count(session_id) == 0  # refunded before it could be fulfilled


@pytest.mark.parametrize(("outcome", "before_fulfilment", "status", "fulfilments", "told"), [
    ("won", True, "paid", 1, 0),  # held back while open, fulfilled once won
    ("won", False, "paid", 1, 0),
    ("lost", True, "dispute_lost", 0, 0),  # never fulfilled: nothing to take back
    ("lost", False, "dispute_lost", 1, 1),  # fulfilled, then lost: the seller is told once
])
def test_dispute_outcomes_before_and_after_fulfilment(store, notifying_fulfiller, hook, notices, outcome,
                                                      before_fulfilment,
                                                      status, fulfilments, told):
    pi = new("pi")
    session = make_session(payment_intent=pi)
    now = int(time.time())
    completed = events(("checkout.session.completed", session), start=now - 500)
    opened = events(("charge.dispute.created", make_dispute(pi)), start=now - 400)
    closed = events(("charge.dispute.closed", make_dispute(pi, status=outcome)), start=now - 300)
    if before_fulfilment:
        deliver(store, notifying_fulfiller, opened, seed=1)
        deliver(store, notifying_fulfiller, completed, seed=2)
        assert store.get(order_key(session["id"]))["status"] == "disputed"
        assert hook.calls == []  # held back
        deliver(store, notifying_fulfiller, closed, seed=3)
    else:
        deliver(store, notifying_fulfiller, completed, seed=1)
        deliver(store, notifying_fulfiller, opened + closed, seed=2)
    order = store.get(order_key(session["id"]))
    assert order["status"] == status and order["dispute"]["outcome"] == outcome
    assert hook.calls.count(session["id"]) == fulfilments
    lost = [n for n in notices.notices if n["kind"] == "dispute_lost"]
    assert len(lost) == told
    if told:
        assert lost[0]["order"]["session_id"] == session["id"] and lost[0]["order"]["fulfilled"] is True
        assert lost[0]["dispute"]["status"] == "lost"


def test_a_lost_dispute_notice_that_fails_is_retried_and_told_once(store, hook):
    failing, working = RecordingNotices(fail=True), RecordingNotices()
    pi = new("pi")
    session = make_session(payment_intent=pi)
    process(make_event("checkout.session.completed", session), store, Fulfiller([hook], notify=working))
    lost = make_event("charge.dispute.closed", make_dispute(pi, status="lost"))
    with pytest.raises(FulfilmentFailed):
        process(lost, store, Fulfiller([hook], notify=failing))
    assert store.get(order_key(session["id"]))["status"] == "dispute_lost"
    assert process(lost, store, Fulfiller([hook], notify=working)) == "applied"  # Stripe's retry
    assert process(lost, store, Fulfiller([hook], notify=working)) == "duplicate"
    assert working.kinds() == ["dispute_lost"]


def test_a_failed_refund_returns_the_order_to_paid_in_any_order(store, notifying_fulfiller, hook):
    for seed in range(4):
        pi = new("pi")
        session = make_session(payment_intent=pi)
        refund = make_refund(pi, amount=3000, status="pending")
        failed = dict(refund, status="failed", failure_reason="expired_or_canceled_card")
        deliver(store, notifying_fulfiller, events(("checkout.session.completed", session), ("refund.created", refund),
                                         ("charge.refunded", make_charge(pi)), ("charge.refund.updated", failed),
                                         ("refund.failed", failed)), seed=seed, concurrent=seed == 3)
        order = store.get(order_key(session["id"]))
        assert order["status"] == "paid" and order["refund"]["amount_refunded"] == 0
        # Refunded before fulfilment or not, the money came back: the order is fulfilled, once.
        assert hook.calls.count(session["id"]) == 1


def test_an_early_fraud_warning_is_recorded_on_its_order_before_or_after_completion(store, notifying_fulfiller):
    for seed in range(2):
        pi = new("pi")
        session = make_session(payment_intent=pi)
        warning = make_fraud_warning(pi)
        deliver(store, notifying_fulfiller, events(("checkout.session.completed", session),
                                         ("radar.early_fraud_warning.created", warning)), seed=seed)
        order = store.get(order_key(session["id"]))
        assert order["status"] == "paid" and warning["id"] in order["fraud_warnings"]
        assert order["fraud_warnings"][warning["id"]]["fraud_type"] == "made_with_stolen_card"


@pytest.mark.parametrize("shape", SHAPES)
def test_payment_action_required_is_recorded_and_told_once_with_the_invoice_page(store, notifying_fulfiller,
                                                                                 notices, shape):
    sub, invoice = new("sub"), new("in")
    event = make_event("invoice.payment_action_required", make_invoice(invoice, sub, shape=shape, status="open"))
    for _ in range(3):
        process(event, store, notifying_fulfiller)
    record = store.get(subscription_key(sub))
    assert record["notices"]["payment_action_required"]["invoice"] == invoice
    [told] = notices.notices
    assert told["kind"] == "payment_action_required" and told["subscription_id"] == sub
    assert told["hosted_invoice_url"] == f"https://invoice.stripe.com/i/acct_test/{invoice}"
    assert told["customer_email"] == "buyer@example.com"


def test_trial_will_end_is_told_once_and_a_failing_hook_is_retried(store, hook):
    sub = new("sub")
    trial_end = int(time.time()) + 3 * 86400
    event = make_event("customer.subscription.trial_will_end", make_subscription(sub, status="trialing",
                                                                                 trial_end=trial_end))
    with pytest.raises(FulfilmentFailed):
        process(event, store, Fulfiller([hook], notify=RecordingNotices(fail=True)))
    working = RecordingNotices()
    assert process(event, store, Fulfiller([hook], notify=working)) == "applied"
    assert process(event, store, Fulfiller([hook], notify=working)) == "duplicate"
    assert working.kinds() == ["trial_will_end"] and working.notices[0]["trial_end"] == trial_end
    assert working.notices[0]["subscription"]["status"] == "trialing"
    assert store.get(subscription_key(sub))["notices"]["trial_will_end"]["trial_end"] == trial_end


def test_hooks_without_on_notice_are_only_ever_called_with_paid_orders(store, hook):
    pi = new("pi")
    session = make_session(payment_intent=pi)
    notifying_fulfiller = Fulfiller([hook])  # no notice hook: as every hook written before notices existed
    for kind, obj in [("checkout.session.completed", session), ("charge.dispute.created", make_dispute(pi)),
                      ("charge.dispute.closed", make_dispute(pi, status="lost"))]:
        process(make_event(kind, obj), store, notifying_fulfiller)
    process(make_event("invoice.payment_action_required", make_invoice(new("in"), new("sub"))), store,
            notifying_fulfiller)
    assert store.get(order_key(session["id"]))["status"] == "dispute_lost"
    assert hook.calls == [session["id"]]


def test_a_presentment_currency_purchase_keeps_what_the_buyer_paid(store, notifying_fulfiller):
    basil = make_session(presentment_details={"presentment_amount": 2790, "presentment_currency": "eur"})
    acacia = make_session(amount_total=2790, currency="eur", currency_conversion={
        "amount_total": 3000, "amount_subtotal": 3000, "fx_rate": "0.93", "source_currency": "usd"})
    for session in (basil, acacia):
        process(make_event("checkout.session.completed", session), store, notifying_fulfiller)
        order = store.get(order_key(session["id"]))
        assert (order["amount_total"], order["currency"]) == (3000, "usd")
        assert order["presentment"] == {"amount": 2790, "currency": "eur"}


def test_the_hook_modules_on_notice_is_found_and_told_of_a_lost_dispute(monkeypatch):
    from shared.settings import Settings
    from tests import hooks

    monkeypatch.setattr(hooks, "granted", [])
    monkeypatch.setattr(hooks, "told", [])
    notifying_fulfiller = Fulfiller.from_settings(Settings(fulfillment_hook="tests.hooks:grant_access"))
    assert notifying_fulfiller.notify is hooks.on_notice
    store, pi = MemoryStore(), new("pi")
    session = make_session(payment_intent=pi)
    process(make_event("checkout.session.completed", session), store, notifying_fulfiller)
    process(make_event("charge.dispute.closed", make_dispute(pi, status="lost")), store, notifying_fulfiller)
    assert hooks.granted == [session["id"]]  # the fulfilment hook: paid orders only
    assert [(n["kind"], n["order"]["session_id"]) for n in hooks.told] == [("dispute_lost", session["id"])]


def test_an_on_notice_that_is_not_a_function_is_a_named_setting_problem(monkeypatch):
    from shared.errors import Misconfigured
    from shared.settings import Settings
    from tests import hooks

    monkeypatch.setattr(hooks, "on_notice", 42)
    with pytest.raises(Misconfigured, match="FULFILLMENT_HOOK's module defines on_notice"):
        Fulfiller.from_settings(Settings(fulfillment_hook="tests.hooks:grant_access"))
