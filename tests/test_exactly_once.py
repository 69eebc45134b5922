"""Exactly once: duplicates, concurrency, out-of-order events, crashes and store failures."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import StoreUnavailable
from shared.events.intake import EventInProgress, process
from shared.events.recovery import record_session
from shared.orders.fulfilment import Fulfiller, FulfilmentFailed
from shared.store.keys import order_key
from tests.fakes import RecordingAction, make_charge, make_dispute, make_event, make_session


def order(store, session_id):
    return store.get(order_key(session_id))


def test_completed_event_records_a_paid_fulfilled_order(store, fulfiller, hook):
    session = make_session()
    assert process(make_event("checkout.session.completed", session), store, fulfiller) == "applied"
    stored = order(store, session["id"])
    assert stored["status"] == "paid" and stored["done_at"] is not None
    assert stored["line_items"][0] == {"price": "price_tshirt", "quantity": 2, "description": "T-shirt",
                                       "unit_amount": 1500, "amount_subtotal": 3000, "amount_discount": 0,
                                       "amount_tax": 0, "amount_total": 3000, "currency": "usd"}
    assert stored["customer_email"] == "buyer@example.com" and stored["payment_intent"] == "pi_default"
    assert hook.calls == [session["id"]]


def test_the_same_event_twenty_times_ten_concurrently_fulfils_once(store, fulfiller, hook):
    session = make_session()
    event = make_event("checkout.session.completed", session)
    outcomes: list[str] = []
    lock = threading.Lock()

    def deliver() -> None:
        # Stripe retries whatever did not get a 2xx, so a delivery told "in progress" comes back.
        for _ in range(200):
            try:
                result = process(event, store, fulfiller)
            except EventInProgress:
                time.sleep(0.01)
                continue
            with lock:
                outcomes.append(result)
            return

    with ThreadPoolExecutor(10) as pool:
        for future in [pool.submit(deliver) for _ in range(10)]:
            future.result()
    for _ in range(10):
        deliver()
    assert sorted(outcomes) == ["applied"] + ["duplicate"] * 19
    assert hook.calls == [session["id"]]
    assert len(order(store, session["id"])["history"]) == 1


def test_refund_before_completion_ends_refunded(store, fulfiller, hook):
    session = make_session(payment_intent="pi_early")
    now = int(time.time())
    process(make_event("charge.refunded", make_charge("pi_early"), created=now), store, fulfiller)
    assert order(store, session["id"]) is None  # parked until the session is known
    process(make_event("checkout.session.completed", session, created=now - 5), store, fulfiller)
    stored = order(store, session["id"])
    assert stored["status"] == "refunded" and stored["refund"]["amount_refunded"] == 3000
    assert hook.calls == []  # refunded before it could be fulfilled


def test_refund_after_completion_is_found_through_the_payment_intent(store, fulfiller, hook):
    session = make_session(payment_intent="pi_late")
    process(make_event("checkout.session.completed", session), store, fulfiller)
    process(make_event("charge.refunded", make_charge("pi_late", amount_refunded=1000)), store, fulfiller)
    assert order(store, session["id"])["status"] == "partially_refunded"
    assert hook.calls == [session["id"]]


def test_expired_after_paid_stays_paid(store, fulfiller):
    session = make_session()
    process(make_event("checkout.session.completed", session), store, fulfiller)
    process(make_event("checkout.session.expired", dict(session, status="expired")), store, fulfiller)
    assert order(store, session["id"])["status"] == "paid"


def test_delayed_payment_awaits_then_succeeds_or_fails(store, fulfiller, hook):
    ok, bad = make_session(payment_status="unpaid"), make_session(payment_status="unpaid")
    for session in (ok, bad):
        process(make_event("checkout.session.completed", session), store, fulfiller)
        assert order(store, session["id"])["status"] == "awaiting_payment"
    process(make_event("checkout.session.async_payment_succeeded", dict(ok, payment_status="paid")), store, fulfiller)
    process(make_event("checkout.session.async_payment_failed", bad), store, fulfiller)
    assert order(store, ok["id"])["status"] == "paid"
    assert order(store, bad["id"])["status"] == "payment_failed"
    assert hook.calls == [ok["id"]]


def test_dispute_created_then_closed(store, fulfiller):
    session = make_session(payment_intent="pi_disp")
    process(make_event("checkout.session.completed", session), store, fulfiller)
    process(make_event("charge.dispute.created", make_dispute("pi_disp")), store, fulfiller)
    assert order(store, session["id"])["status"] == "disputed"
    process(make_event("charge.dispute.closed", make_dispute("pi_disp", status="won"), created=int(time.time()) + 1),
            store, fulfiller)
    stored = order(store, session["id"])
    assert stored["status"] == "paid" and stored["dispute"]["outcome"] == "won"


def test_subscription_events_keep_the_newest_state(store, fulfiller):
    from tests.fakes import FIXTURES

    sub = dict(FIXTURES["subscription"], id="sub_42", status="active", cancel_at_period_end=False)
    now = int(time.time())
    process(make_event("customer.subscription.updated", dict(sub, cancel_at_period_end=True), created=now), store,
            fulfiller)
    process(make_event("customer.subscription.created", sub, created=now - 100), store, fulfiller)
    process(make_event("invoice.paid", {"id": "in_1", "subscription": "sub_42", "amount_paid": 900}, created=now),
            store, fulfiller)
    record = store.get("SUB#sub_42")
    assert record["status"] == "active" and record["cancel_at_period_end"] is True
    assert record["latest_invoice"]["status"] == "paid"


def test_unknown_event_types_are_acknowledged_and_not_stored(store, fulfiller):
    assert process(make_event("product.created", {"id": "prod_1"}), store, fulfiller) == "ignored"
    assert store.query("by_created", "ORDERS", limit=10) == []


def test_store_down_fails_and_leaves_nothing_half_written_then_retry_records_once(fulfiller, hook):
    from tests.fakes import MemoryStore

    store = MemoryStore()
    session = make_session()
    event = make_event("checkout.session.completed", session)
    store.fail = True
    with pytest.raises(StoreUnavailable):
        process(event, store, fulfiller)
    store.fail = False
    assert store.items == {}
    assert process(event, store, fulfiller) == "applied"
    assert process(event, store, fulfiller) == "duplicate"
    assert hook.calls == [session["id"]]


def test_a_crashed_claim_expires_and_the_retry_completes_it(store, fulfiller, hook):
    session = make_session()
    event = make_event("checkout.session.completed", session)
    now = int(time.time())
    # An invocation claimed the event and died before doing anything.
    store.claim(f"EVENT#{event['id']}", "dead-invocation", now=now, until=now + 60)
    with pytest.raises(EventInProgress):
        process(event, store, fulfiller, now=now + 10)
    assert process(event, store, fulfiller, now=now + 61) == "applied"
    assert hook.calls == [session["id"]]


def test_failed_fulfilment_answers_error_and_the_retry_fulfils(store, hook):
    failing = RecordingAction(fail=True)
    session = make_session()
    event = make_event("checkout.session.completed", session)
    with pytest.raises(FulfilmentFailed):
        process(event, store, Fulfiller([failing]))
    assert order(store, session["id"])["status"] == "paid"
    assert process(event, store, Fulfiller([hook])) == "applied"
    assert hook.calls == [session["id"]]


def test_success_page_and_webhook_racing_fulfil_once(store, fulfiller, hook):
    for _ in range(5):
        session = make_session()
        event = make_event("checkout.session.completed", session)
        barrier = threading.Barrier(2)

        def webhook(event: dict = event, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for _ in range(200):
                try:
                    process(event, store, fulfiller)
                    return
                except Exception:  # in progress or busy: Stripe retries
                    time.sleep(0.01)

        def success_page(session: dict = session, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            record_session(store, fulfiller, session)

        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(webhook), pool.submit(success_page)]:
                future.result()
        assert order(store, session["id"])["done_at"] is not None
        assert hook.calls.count(session["id"]) == 1


def test_with_no_actions_one_write_marks_the_order_fulfilled_once(store):
    from shared.orders.fulfilment import FulfilmentBusy

    session = make_session()
    process(make_event("checkout.session.completed", dict(session, payment_status="unpaid")), store, Fulfiller([]))
    paid = process(make_event("checkout.session.async_payment_succeeded", session), store, Fulfiller([]))
    assert paid == "applied"
    order = store.get(order_key(session["id"]))
    assert order["done_at"] is not None
    # Every later trigger finds it done, concurrently or not.
    results = []
    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(Fulfiller([]).fulfil_if_due, store, order) for _ in range(16)]:
            try:
                results.append(future.result())
            except FulfilmentBusy:
                results.append("busy")
    assert results == [False] * 16


def test_refund_parked_while_its_session_links_is_never_lost(store, fulfiller):
    """The refund and the completion race on the PAYMENT item: whichever lands second sees the other."""
    for _ in range(10):
        session = make_session(payment_intent=f"pi_race_{uuid.uuid4().hex[:8]}")
        completed = make_event("checkout.session.completed", session)
        refunded = make_event("charge.refunded", make_charge(session["payment_intent"]))
        barrier = threading.Barrier(2)

        def deliver(event, barrier=barrier):
            barrier.wait()
            for _ in range(200):
                try:
                    return process(event, store, fulfiller)
                except EventInProgress:
                    time.sleep(0.005)

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(deliver, [completed, refunded]))
        assert outcomes == ["applied", "applied"]
        assert order(store, session["id"])["status"] == "refunded"


def test_a_failure_before_the_write_leaves_nothing_but_a_note_and_the_retry_applies(store, fulfiller, hook,
                                                                                     monkeypatch):
    """A bug while applying (nothing written yet): 5xx, the ledger says why, and Stripe's retry is taken up at once."""
    import shared.events.intake as intake

    session = make_session()
    event = make_event("checkout.session.completed", session)
    real = intake.apply_order_change
    monkeypatch.setattr(intake, "apply_order_change", lambda *a, **k: (_ for _ in ()).throw(KeyError("bug")))
    with pytest.raises(KeyError):
        process(event, store, fulfiller)
    ledger = store.get(f"EVENT#{event['id']}")
    assert ledger["last_error"] == "KeyError" and ledger.get("done_at") is None
    assert order(store, session["id"]) is None
    monkeypatch.setattr(intake, "apply_order_change", real)
    assert process(event, store, fulfiller) == "applied"
    assert hook.calls == [session["id"]] and order(store, session["id"])["done_at"] is not None


def test_an_order_another_trigger_is_fulfilling_is_recorded_and_the_event_retried(store, hook):
    """The success page holds the order's lease: the event's change is written, the delivery answers 409
    (FulfilmentBusy), and the retry after that lease fulfils the order once."""
    from shared.orders.fulfilment import FulfilmentBusy

    fulfiller = Fulfiller([hook], lease_seconds=60)
    session = make_session()
    now = int(time.time())
    unpaid = make_event("checkout.session.completed", dict(session, payment_status="unpaid"))
    assert process(unpaid, store, fulfiller, now=now) == "applied"
    taken = store.claim(order_key(session["id"]), "success-page", now=now, until=now + 30, create=False)
    assert taken.value == "claimed"
    paid = make_event("checkout.session.async_payment_succeeded", session)
    with pytest.raises(FulfilmentBusy):
        process(paid, store, fulfiller, now=now)
    assert order(store, session["id"])["status"] == "paid" and hook.calls == []
    assert store.get(f"EVENT#{paid['id']}")["last_error"] == "fulfilment_in_progress"
    assert process(paid, store, fulfiller, now=now + 31) == "applied"
    assert hook.calls == [session["id"]]
    assert process(paid, store, fulfiller, now=now + 32) == "duplicate"


def test_a_record_changed_between_the_read_and_the_write_is_read_again(store, fulfiller, hook):
    """Another event lands on the order between this one's read and its transaction: the transaction is
    cancelled, nothing of it is written, and it is made again from a fresh read: both changes stand."""
    session = make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}")
    completed = make_event("checkout.session.completed", session)
    assert process(completed, store, fulfiller) == "applied"
    refund = make_event("charge.refunded", make_charge(session["payment_intent"]))
    dispute = make_event("charge.dispute.created", make_dispute(session["payment_intent"]))

    class Interleaved:
        """The store, with the dispute applied just before the refund's first transaction."""

        def __init__(self) -> None:
            self.transactions = 0

        def __getattr__(self, name):
            return getattr(store, name)

        def transact(self, writes):
            self.transactions += 1
            if self.transactions == 1:
                assert process(dispute, store, fulfiller) == "applied"
            return store.transact(writes)

    interleaved = Interleaved()
    assert process(refund, interleaved, fulfiller) == "applied"  # type: ignore[arg-type]
    assert interleaved.transactions == 2
    stored = order(store, session["id"])
    assert {entry["event_id"] for entry in stored["history"]} == {completed["id"], refund["id"], dispute["id"]}
    assert stored["status"] == "disputed" and stored["refund"]["amount_refunded"] > 0


class CommitsThenSaysItFailed:
    """The store, whose first transaction is made but reported as failed: what a retry after a timeout
    sees when the first attempt did reach DynamoDB."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.transactions = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def transact(self, writes):
        from shared.store.base import TransactionFailed

        self.transactions += 1
        self.inner.transact(writes)
        if self.transactions == 1:
            raise TransactionFailed({0: None})


@pytest.mark.parametrize("actions", [0, 1])
def test_a_write_made_but_reported_failed_is_recognised_as_ours(store, hook, actions):
    session = make_session()
    event = make_event("checkout.session.completed", session)
    ambiguous = CommitsThenSaysItFailed(store)
    outcome = process(event, ambiguous, Fulfiller([hook] * actions))  # type: ignore[arg-type]
    # Without actions the first write finished the event: the retry's read finds it done. With the hook,
    # the write took the event's and the order's leases with our token: the retry carries on under them.
    assert outcome == ("duplicate" if actions == 0 else "applied")
    assert hook.calls == [session["id"]] * actions
    assert order(store, session["id"])["done_at"] is not None
    assert store.get(f"EVENT#{event['id']}")["done_at"] is not None
    assert process(event, store, Fulfiller([hook] * actions)) == "duplicate"
