"""`python -m shared events`: the webhook and EventBridge paths' log, read from the ledger in DynamoDB."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from shared.cli.events_log import entries
from shared.cli.main import main
from shared.events.eventbridge import handle
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller, FulfilmentFailed
from tests.fakes import RecordingAction, make_charge, make_event, make_session


class ProcessDied(BaseException):
    """The invocation stops mid-event (a timeout, a kill): nothing it runs afterwards happens."""


def dies(order: dict) -> None:
    raise ProcessDied()


def test_events_lists_what_each_path_did_newest_first(cli_table, capsys):
    now = int(time.time())
    paid = make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}")
    completed = make_event("checkout.session.completed", paid)
    refund = make_event("charge.refunded", make_charge(paid["payment_intent"]))
    broken = make_event("checkout.session.completed", make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}"))
    crashed = make_event("checkout.session.completed", make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}"))
    old = make_event("checkout.session.completed", make_session(payment_intent=f"pi_{uuid.uuid4().hex[:8]}"))

    process(old, cli_table, Fulfiller([]), now=now - 3 * 86400)
    process(completed, cli_table, Fulfiller([]), now=now - 300)
    handle({"source": "aws.partner/stripe.com/ed_test", "detail": refund}, cli_table, Fulfiller([]),
           lease_seconds=60)
    with pytest.raises(FulfilmentFailed):
        process(broken, cli_table, Fulfiller([RecordingAction(fail=True)]), now=now - 200)
    with pytest.raises(ProcessDied):
        process(crashed, cli_table, Fulfiller([dies]), now=now - 100, lease_seconds=600)
    assert process(completed, cli_table, Fulfiller([])) == "duplicate"
    assert process(make_event("product.created", {"id": "prod_1"}), cli_table, Fulfiller([])) == "ignored"

    assert main(["events", "--since", "24h"]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [line.split()[2] for line in out[:-1]]
    assert listed == [refund["id"], crashed["id"], broken["id"], completed["id"]]  # newest first; `old` is outside
    lines = dict(zip(listed, out, strict=False))
    assert "applied" in lines[refund["id"]] and "eventbridge" in lines[refund["id"]]
    assert f"order {paid['id']}" in lines[refund["id"]]
    assert "in_progress" in lines[crashed["id"]]  # its lease has ten minutes to run
    assert "failed" in lines[broken["id"]] and "fulfilment_failed" in lines[broken["id"]]
    assert "webhook" in lines[completed["id"]] and "checkout.session.completed" in lines[completed["id"]]
    assert out[-1].startswith("2 applied, 1 failed, 1 in progress since ")


def test_events_as_json_with_an_outcome_filter(cli_table, capsys):
    now = int(time.time())
    broken = make_event("charge.refunded", make_charge(f"pi_{uuid.uuid4().hex[:8]}"))
    with pytest.raises(FulfilmentFailed):
        process(make_event("checkout.session.completed", make_session(payment_intent=f"pi_{uuid.uuid4().hex[:6]}")),
                cli_table, Fulfiller([RecordingAction(fail=True)]), now=now - 60)
    process(broken, cli_table, Fulfiller([]), now=now - 30)  # parked: its order is unknown, and that is fine

    assert main(["events", "--outcome", "failed", "--json"]) == 0
    [failed] = json.loads(capsys.readouterr().out)
    assert set(failed) == {"event_id", "type", "outcome", "source", "at", "event_created", "done_at", "order",
                           "subscription", "invoice", "payment_intent", "error"}
    assert (failed["outcome"], failed["error"], failed["at"], failed["done_at"]) == (
        "failed", "fulfilment_failed", now - 60, None)

    assert main(["events", "--outcome", "applied", "--json"]) == 0
    [applied] = json.loads(capsys.readouterr().out)
    assert applied["event_id"] == broken["id"] and applied["payment_intent"] == broken["data"]["object"][
        "payment_intent"]


@pytest.mark.parametrize("outcome", ["duplicate", "ignored"])
def test_outcomes_the_ledger_does_not_keep_are_explained_not_listed_empty(cli_table, capsys, outcome):
    assert main(["events", "--outcome", outcome]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "not written to the ledger" in captured.err and "EventsDuplicate" in captured.err


def test_a_crashed_invocation_shows_as_failed_once_its_lease_has_run_out():
    item = {"event_id": "evt_1", "type": "invoice.paid", "seen_at": 100, "claim_until": 160, "source": "webhook"}
    [live] = entries([item], now=150)
    [expired] = entries([item], now=161)
    assert (live.outcome, live.error) == ("in_progress", None)
    assert (expired.outcome, expired.error) == ("failed", "lease_expired")
