"""Range queries over the indexes — orders since a time, every subscription, the ledger by day — on the
in-memory store and on DynamoDB over HTTP, and what the ledger records of each event it takes up."""

from __future__ import annotations

import time
import uuid

import pytest

from shared.errors import StoreUnavailable
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller, FulfilmentFailed
from shared.store.dynamo import DynamoStore
from shared.store.keys import all_subscriptions, ledger_since, orders_since
from tests.fakes import (
    FIXTURES,
    RecordingAction,
    make_charge,
    make_event,
    make_invoice,
    make_invoice_payment,
    make_refund,
    make_session,
)

DAY = 86400


def subscription_object(sub_id: str, *, created: int) -> dict:
    sub = dict(FIXTURES["subscription"], id=sub_id, status="active", created=created, start_date=created)
    return sub


def test_orders_since_reads_every_order_from_that_time_oldest_first(store, fulfiller):
    now = int(time.time())
    sessions = [make_session(created=now - days * DAY, payment_intent=f"pi_{uuid.uuid4().hex[:8]}")
                for days in (40, 10, 5, 1)]
    for session in sessions:
        process(make_event("checkout.session.completed", session), store, fulfiller)
    found = list(store.query_range(*orders_since(now - 20 * DAY)[:2], start=orders_since(now - 20 * DAY)[2]))
    assert [o["session_id"] for o in found] == [s["id"] for s in sessions[1:]]


def test_a_range_query_follows_every_page(local_dynamo):
    """Three items a page: the reader follows LastEvaluatedKey until the partition is done."""
    store = DynamoStore(f"test-{uuid.uuid4().hex[:10]}", endpoint_url=local_dynamo.url, page_size=3)
    store.create_table()
    now = int(time.time())
    for i in range(10):
        session = make_session(created=now - 1000 + i, payment_intent=f"pi_page_{i}_{uuid.uuid4().hex[:6]}")
        process(make_event("checkout.session.completed", session), store, Fulfiller([]))
    index, partition, start = orders_since(0)
    assert [o["created"] for o in store.query_range(index, partition, start=start)] == [now - 1000 + i
                                                                                       for i in range(10)]


def test_subscriptions_are_indexed_by_when_they_were_created(store, fulfiller):
    now = int(time.time())
    older, newer = f"sub_{uuid.uuid4().hex[:10]}", f"sub_{uuid.uuid4().hex[:10]}"
    process(make_event("customer.subscription.created", subscription_object(newer, created=now - DAY)), store,
            fulfiller)
    process(make_event("customer.subscription.created", subscription_object(older, created=now - 9 * DAY)), store,
            fulfiller)
    index, partition, start = all_subscriptions()
    assert [s["subscription_id"] for s in store.query_range(index, partition, start=start)] == [older, newer]


def test_the_ledger_records_type_source_and_the_record_each_event_changed(store, fulfiller):
    now = int(time.time())
    session = make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}")
    completed = make_event("checkout.session.completed", session)
    refund = make_event("charge.refunded", make_charge(session["payment_intent"]))
    early = make_event("charge.refunded", make_charge(f"pi_{uuid.uuid4().hex[:8]}"))  # its order is not known yet
    sub = make_event("customer.subscription.created", subscription_object(f"sub_{uuid.uuid4().hex[:8]}",
                                                                        created=now))
    process(completed, store, fulfiller, now=now - 2 * DAY)
    process(refund, store, fulfiller, now=now, source="eventbridge")
    process(early, store, fulfiller, now=now, source="reconcile")
    process(sub, store, fulfiller, now=now)
    assert process(completed, store, fulfiller, now=now) == "duplicate"  # changes nothing in the ledger

    entries = {e["event_id"]: e for index, partition, start in ledger_since(now - 3 * DAY, now)
               for e in store.query_range(index, partition, start=start)}
    assert set(entries) == {completed["id"], refund["id"], early["id"], sub["id"]}
    first = entries[completed["id"]]
    assert (first["type"], first["source"], first["seen_at"], first["order"], first["outcome"]) == (
        "checkout.session.completed", "webhook", now - 2 * DAY, session["id"], "applied")
    assert entries[refund["id"]]["order"] == session["id"] and entries[refund["id"]]["source"] == "eventbridge"
    assert entries[early["id"]]["payment_intent"] == early["data"]["object"]["payment_intent"]
    assert entries[sub["id"]]["subscription"] == sub["data"]["object"]["id"]
    # Only the window's days are read: the first event is two days back.
    recent = [e["event_id"] for index, partition, start in ledger_since(now - DAY, now)
              for e in store.query_range(index, partition, start=start)]
    assert completed["id"] not in recent and refund["id"] in recent


def test_the_ledger_names_a_renewal_invoice_its_payment_and_refund_reached(store, fulfiller):
    """A renewal has no order: the payment's link and the refund land on the invoice's record, and the
    ledger says so (a refund whose payment is not linked yet is parked on its payment intent)."""
    now = int(time.time())
    sub_id, renewal, pi = (f"{p}_{uuid.uuid4().hex[:10]}" for p in ("sub", "in", "pi"))
    early = make_event("refund.created", make_refund(f"pi_{uuid.uuid4().hex[:8]}", amount=200))
    paid = make_event("invoice.paid", make_invoice(renewal, sub_id, payment_intent=pi))
    linked = make_event("invoice_payment.paid", make_invoice_payment(renewal, pi))
    refund = make_event("refund.created", make_refund(pi, amount=200))
    for event in (early, paid, linked, refund):
        assert process(event, store, fulfiller, now=now) == "applied"
    entries = {e["event_id"]: e for index, partition, start in ledger_since(now, now)
               for e in store.query_range(index, partition, start=start)}
    assert entries[early["id"]]["payment_intent"] == early["data"]["object"]["payment_intent"]
    assert entries[paid["id"]]["subscription"] == sub_id
    assert entries[linked["id"]]["invoice"] == renewal and entries[refund["id"]]["invoice"] == renewal
    assert "order" not in entries[refund["id"]]


def test_a_failed_event_says_why_and_a_retry_that_applies_it_keeps_the_reason(store):
    now = int(time.time())
    event = make_event("checkout.session.completed", make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}"))
    with pytest.raises(FulfilmentFailed):
        process(event, store, Fulfiller([RecordingAction(fail=True)]), now=now)
    ledger = store.get(f"EVENT#{event['id']}")
    assert ledger["last_error"] == "fulfilment_failed" and ledger["failed_at"] == now and "done_at" not in ledger
    assert process(event, store, Fulfiller([RecordingAction()]), now=now + 5) == "applied"
    ledger = store.get(f"EVENT#{event['id']}")
    assert (ledger["outcome"], ledger["last_error"], ledger["seen_at"]) == ("applied", "fulfilment_failed", now + 5)


def test_a_range_query_on_a_store_that_is_down_raises_store_unavailable():
    from tests.fakes import MemoryStore

    store = MemoryStore()
    store.fail = True
    with pytest.raises(StoreUnavailable):
        list(store.query_range(*orders_since(0)[:2]))


def test_ledger_ranges_cover_each_day_of_the_window_once():
    ranges = ledger_since(10 * DAY + 5, 12 * DAY + 7)
    assert [partition for _, partition, _ in ranges] == ["EVENTS#1970-01-11", "EVENTS#1970-01-12",
                                                         "EVENTS#1970-01-13"]
    assert {start for _, _, start in ranges} == {f"{10 * DAY + 5:012d}"}


def test_what_a_range_query_reads_equals_what_was_written(store):
    """Query pages are decoded by us from the raw body (botocore's parser is bypassed there): the same
    values as a GetItem, which botocore parses."""
    from shared.store.keys import order_key

    session_id = f"cs_{uuid.uuid4().hex}"
    written = {"session_id": session_id, "created": 7, "big": 10**20, "price": 2.5, "ok": True, "none": None,
               "nested": {"lines": [{"q": 1, "d": "T-shirt ✓"}, [], {}], "empty": ""}, "raw": b"\x00\xff"}
    store.put(order_key(session_id), written, expected_version=0)
    index, partition, start = orders_since(7)
    [ranged] = [o for o in store.query_range(index, partition, start=start) if o["session_id"] == session_id]
    got = store.get(order_key(session_id))
    assert {k: ranged[k] for k in written} == {k: got[k] for k in written} == written
    [projected] = [o for o in store.query_range(index, partition, start=start, attributes=("session_id", "big"))
                   if o["session_id"] == session_id]
    assert projected == {"session_id": session_id, "big": 10**20}


def test_a_range_query_dynamodb_refuses_is_store_unavailable(local_dynamo, dynamo_store):
    local_dynamo.fail_next(3)  # more than botocore's own attempts absorb
    with pytest.raises(StoreUnavailable, match="query"):
        list(dynamo_store.query_range(*orders_since(0)[:2]))
