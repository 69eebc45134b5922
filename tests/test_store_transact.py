"""`Store.transact` and `Store.get_many`: the same contract on the in-memory fake and on DynamoDB over HTTP —
every condition holds and every write is made, or nothing is written and the failed items say why."""

from __future__ import annotations

import pytest

from shared.store.base import TransactionFailed, Write
from shared.store.keys import all_stock, held_reservations, reservation_key, stock_key


def test_get_many_returns_the_items_that_exist_by_key(store):
    store.set_fields(stock_key("a"), {"ref": "a", "available": 3})
    store.set_fields(stock_key("b"), {"ref": "b", "available": 0})
    found = store.get_many([stock_key("a"), stock_key("missing"), stock_key("b"), stock_key("a")])
    assert set(found) == {stock_key("a"), stock_key("b")}
    assert found[stock_key("a")]["available"] == 3 and found[stock_key("b")]["available"] == 0
    assert store.get_many([]) == {}


def test_a_transaction_writes_everything_when_every_condition_holds(store):
    store.set_fields(stock_key("a"), {"ref": "a", "available": 5})
    store.transact([
        Write(reservation_key("r1"), new=True, set={"reservation_id": "r1", "state": "held", "hold_until": 100}),
        Write(stock_key("a"), at_least={"available": 5}, add={"available": -5, "held": 5}),
    ])
    assert store.get(stock_key("a"))["available"] == 0 and store.get(stock_key("a"))["held"] == 5
    assert store.get(reservation_key("r1"))["state"] == "held"


def test_a_failed_condition_writes_nothing_and_names_the_write_with_its_item(store):
    store.set_fields(stock_key("a"), {"ref": "a", "available": 5})
    store.set_fields(stock_key("b"), {"ref": "b", "available": 1})
    with pytest.raises(TransactionFailed) as failed:
        store.transact([
            Write(reservation_key("r1"), new=True, set={"reservation_id": "r1", "state": "held"}),
            Write(stock_key("a"), at_least={"available": 2}, add={"available": -2}),
            Write(stock_key("b"), at_least={"available": 2}, add={"available": -2}),
        ])
    assert set(failed.value.failed) == {2}
    assert failed.value.failed[2]["available"] == 1  # what is left, without reading again
    assert store.get(reservation_key("r1")) is None  # all or nothing
    assert store.get(stock_key("a"))["available"] == 5


def test_conditions_on_a_missing_item_or_attribute_fail(store):
    with pytest.raises(TransactionFailed) as failed:
        store.transact([Write(stock_key("none"), at_least={"available": 0}, add={"available": 1})])
    assert failed.value.failed == {0: None}
    store.set_fields(stock_key("a"), {"ref": "a"})
    with pytest.raises(TransactionFailed):
        store.transact([Write(stock_key("a"), equals={"state": "held"}, set={"state": "sold"})])
    with pytest.raises(TransactionFailed):
        store.transact([Write(stock_key("a"), new=True, set={"ref": "a"})])


def test_adds_count_from_zero_and_every_written_item_gets_a_new_version(store):
    store.transact([Write(stock_key("a"), add={"available": 4, "held": 0}, set={"ref": "a"})])
    first = store.get(stock_key("a"))
    store.transact([Write(stock_key("a"), equals={"available": 4}, add={"available": -1, "sold": 1})])
    after = store.get(stock_key("a"))
    assert (after["available"], after["held"], after["sold"]) == (3, 0, 1)
    assert after["version"] == first["version"] + 1


def test_held_reservations_are_indexed_by_the_end_of_their_hold_until_they_leave_that_state(store):
    for rid, until in (("late", 300), ("early", 100), ("middle", 200)):
        store.transact([Write(reservation_key(rid), new=True,
                              set={"reservation_id": rid, "state": "held", "hold_until": until})])
    assert [r["reservation_id"] for r in store.query_range(*held_reservations())] == ["early", "middle", "late"]
    store.transact([Write(reservation_key("middle"), equals={"state": "held"}, set={"state": "released"})])
    assert [r["reservation_id"] for r in store.query_range(*held_reservations())] == ["early", "late"]
    assert "gsi2pk" not in store.get(reservation_key("middle"))


def test_stock_items_are_listed_by_reference(store):
    store.set_fields(stock_key("poster"), {"ref": "poster", "available": 1})
    store.transact([Write(stock_key("mug"), new=True, set={"ref": "mug"}, add={"available": 2})])
    assert [item["ref"] for item in store.query_range(*all_stock())] == ["mug", "poster"]
