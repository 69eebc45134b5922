"""The unit of work (`store/unit.py`) and the store calls it rests on — `Put` in a transaction, `Write.remove` —
on the in-memory fake and on DynamoDB over HTTP: one read for the records named, one transaction for every
write, all or nothing, each conditional on the version read."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.store.base import Put, TransactionFailed, VersionConflict, Write
from shared.store.keys import order_key, payment_key, recent_orders
from shared.store.unit import Unit
from tests.fakes import CountingStore


def test_a_unit_reads_the_named_records_once_and_writes_everything_in_one_transaction(store):
    store.put(order_key("cs_1"), {"session_id": "cs_1", "created": 5, "status": "open"}, expected_version=0)
    counting = CountingStore(store)
    unit = Unit(counting, [order_key("cs_1"), payment_key("pi_1")])  # type: ignore[arg-type]
    order = unit.get(order_key("cs_1"))
    assert order is not None and unit.get(payment_key("pi_1")) is None
    unit.put(order_key("cs_1"), {**order, "status": "paid"}, expected_version=order["version"])
    linked = unit.set_fields(payment_key("pi_1"), {"payment_intent": "pi_1", "session_id": "cs_1"})
    assert linked["version"] == 1
    # Its own writes are what the unit shows next, and a second write to a record is still one write.
    again = unit.get(order_key("cs_1"))
    assert again is not None and again["status"] == "paid"
    unit.put(order_key("cs_1"), {**again, "note": "second"}, expected_version=again["version"])
    assert store.get(order_key("cs_1"))["status"] == "open"  # nothing is written before the commit
    unit.commit()
    assert counting.calls == Counter({"get_many": 1, "transact": 1})
    stored = store.get(order_key("cs_1"))
    assert (stored["status"], stored["note"], stored["version"]) == ("paid", "second", 2)
    assert store.get(payment_key("pi_1"))["session_id"] == "cs_1"
    # Written whole, the order keeps its place in the indexes.
    assert [o["session_id"] for o in store.query(*recent_orders(), limit=5)] == ["cs_1"]


def test_a_record_changed_after_the_read_cancels_every_write_of_the_unit(store):
    store.put(order_key("cs_2"), {"session_id": "cs_2", "status": "open"}, expected_version=0)
    unit = Unit(store, [order_key("cs_2"), payment_key("pi_2")])
    order = unit.get(order_key("cs_2"))
    assert order is not None
    unit.put(order_key("cs_2"), {**order, "status": "paid"}, expected_version=order["version"])
    unit.set_fields(payment_key("pi_2"), {"payment_intent": "pi_2", "session_id": "cs_2"})
    store.set_fields(order_key("cs_2"), {"refunded": True})  # another invocation, meanwhile
    with pytest.raises(TransactionFailed):
        unit.commit()
    assert store.get(payment_key("pi_2")) is None  # the link was not made without the order's change
    assert store.get(order_key("cs_2"))["status"] == "open"


def test_a_record_created_meanwhile_cancels_a_unit_that_found_none(store):
    unit = Unit(store, [payment_key("pi_3"), order_key("cs_3")])
    unit.set_fields(payment_key("pi_3"), {"payment_intent": "pi_3", "parked": ["refund"]})
    unit.put(order_key("cs_3"), {"session_id": "cs_3"}, expected_version=0)
    store.set_fields(payment_key("pi_3"), {"payment_intent": "pi_3", "session_id": "cs_x"})
    with pytest.raises(TransactionFailed):
        unit.commit()
    assert store.get(payment_key("pi_3"))["session_id"] == "cs_x" and store.get(order_key("cs_3")) is None


def test_one_changed_record_is_one_conditional_put(store):
    counting = CountingStore(store)
    unit = Unit(counting, [order_key("cs_4")])  # type: ignore[arg-type]
    unit.put(order_key("cs_4"), {"session_id": "cs_4"}, expected_version=0)
    unit.commit()
    assert counting.calls == Counter({"get_many": 1, "put": 1})
    late = Unit(store, [order_key("cs_4")])
    store.set_fields(order_key("cs_4"), {"x": 1})
    late.put(order_key("cs_4"), {"session_id": "cs_4", "y": 2}, expected_version=1)
    with pytest.raises(VersionConflict):
        late.commit()


def test_a_unit_refuses_a_write_on_a_version_it_does_not_show(store):
    unit = Unit(store, [order_key("cs_5")])
    with pytest.raises(VersionConflict):
        unit.put(order_key("cs_5"), {"session_id": "cs_5"}, expected_version=3)


def test_a_records_not_named_up_front_is_read_once_when_asked_for(store):
    store.put(order_key("cs_6"), {"session_id": "cs_6"}, expected_version=0)
    counting = CountingStore(store)
    unit = Unit(counting, [payment_key("pi_6")])  # type: ignore[arg-type]
    assert unit.get(order_key("cs_6"))["session_id"] == "cs_6"  # type: ignore[index]
    assert unit.get(order_key("cs_6")) is not None
    assert counting.calls == Counter({"get_many": 1, "get": 1})


def test_put_in_a_transaction_is_versioned_and_says_which_failed(store):
    store.put(order_key("cs_7"), {"session_id": "cs_7", "a": 1}, expected_version=0)
    with pytest.raises(TransactionFailed) as failed:
        store.transact([Put(payment_key("pi_7"), {"payment_intent": "pi_7"}, expected_version=0),
                        Put(order_key("cs_7"), {"session_id": "cs_7", "a": 2}, expected_version=5)])
    assert set(failed.value.failed) == {1} and failed.value.failed[1]["a"] == 1
    assert store.get(payment_key("pi_7")) is None
    store.transact([Put(order_key("cs_7"), {"session_id": "cs_7", "b": 3}, expected_version=1),
                    Write(payment_key("pi_7"), new=True, set={"payment_intent": "pi_7"})])
    stored = store.get(order_key("cs_7"))
    assert "a" not in stored and stored["b"] == 3 and stored["version"] == 2  # replaced whole


def test_a_write_removes_attributes_and_a_partial_order_write_keeps_its_index_place(store):
    store.put(order_key("cs_8"), {"session_id": "cs_8", "created": 42, "claim_token": "t", "claim_until": 9},
              expected_version=0)
    store.transact([Write(order_key("cs_8"), equals={"claim_token": "t"}, set={"done_at": 7},
                          remove=("claim_token", "claim_until"))])
    stored = store.get(order_key("cs_8"))
    assert stored["done_at"] == 7 and "claim_token" not in stored and "claim_until" not in stored
    listed = store.query(*recent_orders(), limit=5)
    assert [o["session_id"] for o in listed] == ["cs_8"]
    if "gsi2sk" in stored:  # DynamoDB keeps the index attributes on the item: still the order's own
        assert stored["gsi2sk"].endswith("#cs_8")
