"""The load run, at a size CI can afford: the full 5,000 deliveries run with
`python -m tests.load.webhook_load`; the figures go in the closing note, not in assertions on speed."""

from tests.load.webhook_load import run


def test_duplicated_shuffled_concurrent_deliveries_leave_every_order_exactly_once():
    report = run(orders=120, senders=16, duplicates=0.2, seed=11, quiet=True)
    assert report["deliveries"] == 600  # 480 events, and 20 % of all deliveries repeats
    assert report["gave_up"] == 0
    assert report["orders_stored"] == 120 and report["orders_lost"] == 0
    assert report["wrong_status"] == 0
    assert report["double_fulfilments"] == 0 and report["unfulfilled"] == 0
    assert report["fulfilment_mismatch"] == 0 and report["lost_notice_mismatch"] == 0
