"""`orders show` and `orders export`, against DynamoDB over HTTP: the export's rows agree with the orders to
the cent, in CSV and JSONL, and the by_created index is read a page at a time."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from shared.cli.main import main
from shared.cli.order_rows import COLUMNS, rows_of
from shared.events.intake import process
from shared.events.recovery import record_session
from shared.orders.fulfilment import Fulfiller
from shared.orders.model import public_view
from shared.store.dynamo import DynamoStore
from shared.store.keys import order_key, orders_since
from tests.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import MemoryStore, make_event, make_sale_session, make_session

DAY = 86400


@pytest.fixture
def orders_table(cli_table, monkeypatch) -> DynamoStore:
    for key, value in {"STRIPE_SECRET_KEY": SECRET_KEY, "ALLOWED_PRICES": "*",
                       "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}.items():
        monkeypatch.setenv(key, value)
    return cli_table


def record(store: Any, session: dict[str, Any], *, expanded: bool = False) -> dict[str, Any]:
    """An order as the webhook records it, or (`expanded`) as the success page's read completes it."""
    if expanded:
        record_session(store, Fulfiller([]), session)
    else:
        process(make_event("checkout.session.completed", session), store, Fulfiller([]))
    return public_view(store.get(order_key(session["id"])))


def run(capsys: Any, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def the_sale(created: int, **options: Any) -> dict[str, Any]:
    session = make_sale_session(**options)
    session["created"] = created
    return session


def test_show_prints_the_whole_order(orders_table, capsys):
    session = make_sale_session(expanded=True)
    record(orders_table, session, expanded=True)
    code, out = run(capsys, "orders", "show", session["id"])
    assert code == 0
    for expected in ("paid, fulfilled", "Customer: Ada Lovelace, buyer@example.com, +353 1 555 0100",
                     "Tax ID: eu_vat IE1234567T", "Engraving: For Ada", "Consent, terms of service: accepted",
                     "Ships to: (Standard)\n  Ada Lovelace\n  12 Harbour Road\n  Flat 3\n  D02 XY45 Dublin\n  IE",
                     "2 × T-shirt at 15.00 USD: 30.00 USD (discount 3.00 USD, tax 2.16 USD)",
                     "Subtotal: 55.00 USD", "Discount (PROMO10): -5.50 USD", "Shipping (Standard): 5.00 USD",
                     "Tax: 4.36 USD", "Total: 58.86 USD"):
        assert expected in out, expected
    assert "Warning" not in out
    code, out = run(capsys, "orders", "show", session["id"], "--json")
    assert json.loads(out)["sale"]["amount_total"] == 5886


def test_show_of_an_unknown_order_says_so(orders_table, capsys):
    assert main(["orders", "show", "cs_test_nothing_here"]) == 1
    assert "no order for cs_test_nothing_here" in capsys.readouterr().err


def test_the_list_still_works_beside_show_and_export(orders_table, capsys):
    record(orders_table, make_sale_session())
    code, out = run(capsys, "orders", "--status", "paid")
    assert code == 0 and "58.86 USD" in out and "buyer@example.com" in out


def test_export_rows_agree_with_the_orders_to_the_cent_in_csv_and_jsonl(orders_table, capsys):
    now = int(time.time())
    orders = [
        record(orders_table, the_sale(now - 300, expanded=True), expanded=True),
        record(orders_table, the_sale(now - 200, tax_included=True, lines=(("price_mug", "Mug", 1250, 3),))),
        record(orders_table, the_sale(now - 100, currency="jpy", shipping=0, percent_off=0,
                               lines=(("price_tenugui", "Tenugui", 1200, 1), ("price_fan", "Fan", 800, 2)))),
        record(orders_table, make_session(amount_total=3000)),
    ]
    code, text = run(capsys, "orders", "export", "--format", "csv")
    assert code == 0
    table_rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table_rows[0]) == COLUMNS
    code, text = run(capsys, "orders", "export", "--format", "jsonl")
    json_rows = [json.loads(line) for line in text.splitlines()]
    assert len(table_rows) == len(json_rows) == 2 + 1 + 2 + 1

    by_order: dict[str, list[int]] = {}
    for index, row in enumerate(json_rows):
        by_order.setdefault(row["order_id"], []).append(index)
    assert list(by_order) == [o["session_id"] for o in orders]  # oldest first

    for order in orders:
        sale, lines = order["sale"], order["line_items"]
        indexes = by_order[order["session_id"]]
        assert [json_rows[i]["line"] for i in indexes] == list(range(1, len(lines) + 1))
        first = json_rows[indexes[0]]
        # The order's money on its first row, as recorded; none on the others, so a column sums right.
        assert [first[c] for c in ("order_subtotal", "order_discount", "order_shipping", "order_tax",
                                   "order_tax_included", "order_total")] == [
            sale["amount_subtotal"], sale["amount_discount"], sale["amount_shipping"], sale["amount_tax"],
            sale["amount_tax_included"], sale["amount_total"]]
        assert all(json_rows[i]["order_total"] is None for i in indexes[1:])
        assert (first["order_subtotal"] - first["order_discount"] + first["order_shipping"] + first["order_tax"]
                - first["order_tax_included"]) == first["order_total"]
        assert sum(json_rows[i]["line_amount_subtotal"] for i in indexes) == sale["amount_subtotal"]
        for i, line in zip(indexes, lines, strict=True):
            assert json_rows[i]["line_amount_total"] == line["amount_total"]
            assert json_rows[i]["line_quantity"] == line["quantity"]
        # CSV: the same figures in the currency's units, exactly.
        scale = Decimal(10) ** -json_rows[indexes[0]]["currency_exponent"]
        for i in indexes:
            for column in ("line_unit_amount", "line_amount_subtotal", "line_amount_total", "order_total",
                           "order_tax", "order_discount"):
                value = json_rows[i][column]
                assert table_rows[i][column] == ("" if value is None else str(Decimal(value) * scale)), column

    expanded = by_order[orders[0]["session_id"]]
    assert [json_rows[i]["line_amount_discount"] for i in expanded] == [300, 250]
    assert table_rows[expanded[0]]["promotion_codes"] == "PROMO10"
    assert table_rows[expanded[1]]["ship_city"] == "Dublin"  # who and where on every row, for packing
    assert table_rows[expanded[1]]["custom_fields"] == "engraving=For Ada"
    assert table_rows[expanded[0]]["tax_ids"] == "eu_vat IE1234567T"
    yen = by_order[orders[2]["session_id"]]
    assert table_rows[yen[0]]["order_total"] == "3024" and table_rows[yen[0]]["currency"] == "jpy"
    assert table_rows[by_order[orders[1]["session_id"]][0]]["order_total"] == "38.75"


def test_export_takes_a_window_and_a_status(orders_table, capsys):
    now = int(time.time())
    old = record(orders_table, the_sale(now - 40 * DAY))
    recent = record(orders_table, the_sale(now - DAY))
    unpaid = record(orders_table, {**the_sale(now - 60), "payment_status": "unpaid"})
    _, text = run(capsys, "orders", "export", "--since", "30d", "--format", "jsonl")
    assert {json.loads(line)["order_id"] for line in text.splitlines()} == {recent["session_id"],
                                                                            unpaid["session_id"]}
    _, text = run(capsys, "orders", "export", "--status", "paid", "--format", "csv")
    assert {row["order_id"] for row in csv.DictReader(io.StringIO(text))} == {old["session_id"],
                                                                              recent["session_id"]}


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted():
    session = make_sale_session(custom_fields=[{"key": "note", "label": {"type": "custom", "custom": "Note"},
                                                "type": "text", "text": {"value": "=HYPERLINK(\"x\")"}}])
    session["customer_details"]["name"] = "@Ada"
    order = record(MemoryStore(), session)
    out = io.StringIO()
    from shared.cli.order_rows import write_csv

    write_csv(rows_of(order), out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["customer_name"] == "'@Ada" and row["custom_fields"] == "note==HYPERLINK(\"x\")"


def test_an_order_with_no_lines_recorded_is_one_row_with_its_totals():
    order = {"session_id": "cs_test_bare", "status": "paid", "created": 1_700_000_000, "amount_total": 900,
             "currency": "usd", "fulfilled": True}
    [row] = rows_of(order)
    assert row["line"] is None and row["lines"] == 0 and row["order_total"] == 900
    assert row["created"] == "2023-11-14T22:13:20Z"


def test_the_by_created_index_is_read_a_page_at_a_time(local_dynamo):
    store = DynamoStore(f"pages-{uuid.uuid4().hex[:8]}", endpoint_url=local_dynamo.url, region="us-east-1",
                        page_size=2)
    store.create_table()
    now = int(time.time())
    ids = [record(store, the_sale(now - 500 + i))["session_id"] for i in range(5)]
    queries: list[dict[str, Any]] = []
    store.client.meta.events.register("provide-client-params.dynamodb.Query",
                                      lambda params, **_: queries.append(dict(params)))
    index, partition, start = orders_since(now - 498)
    found = [item["session_id"] for item in store.query_range(index, partition, start=start)]
    assert found == ids[2:]
    assert len(queries) == 2 and all(q["Limit"] == 2 for q in queries) and "ExclusiveStartKey" in queries[1]
