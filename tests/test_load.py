"""The load runs, at a size CI can afford: the full 5,000 deliveries run with `python -m tests.load.webhook_load`,
the full stock rush with `python -m tests.load.stock_load`; the figures go in the closing note, not in
assertions on speed."""

from tests.load.webhook_load import run


def test_duplicated_shuffled_concurrent_deliveries_leave_every_order_exactly_once():
    report = run(orders=120, senders=16, duplicates=0.2, seed=11, quiet=True)
    assert report["deliveries"] == 600  # 480 events, and 20 % of all deliveries repeats
    assert report["gave_up"] == 0
    assert report["orders_stored"] == 120 and report["orders_lost"] == 0
    assert report["wrong_status"] == 0
    assert report["double_fulfilments"] == 0 and report["unfulfilled"] == 0
    assert report["fulfilment_mismatch"] == 0 and report["lost_notice_mismatch"] == 0


def test_a_rush_on_the_last_units_makes_exactly_that_many_sessions_and_loses_none():
    """The stock rush at CI's size; `python -m tests.load.stock_load` runs 200 buyers for the last 10 units."""
    from tests.load.stock_load import check
    from tests.load.stock_load import run as rush

    report = rush(buyers=60, units=6, expire=2, pay=2, seed=5, quiet=True)
    assert check(report, expire=2, pay=2) == []
    assert report["sessions"] == 6 and report["out_of_stock"] == 54 and report["lowest_available_seen"] == 0
