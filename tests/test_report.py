"""`python -m shared report`: figures checked against orders and subscriptions whose totals are worked out
by hand, recorded through the real webhook path (on the in-memory store and on DynamoDB over HTTP); the
JSON's shape; the terminal's tables; the HTML page in Chromium, with no request leaving it."""

from __future__ import annotations

import copy
import json
import os
import re
import time
import uuid

import pytest

from shared.cli import report_data
from shared.cli.main import main
from shared.cli.report import SCHEMA, build
from shared.cli.report_text import sparkline
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller
from shared.store.dynamo import DynamoStore
from tests.fakes import FIXTURES, make_charge, make_dispute, make_event, make_session

DAY = 86400


class Records:
    """Orders and subscriptions recorded as Stripe's events would record them."""

    def __init__(self, store, now: int) -> None:
        self.store, self.now, self.fulfiller = store, now, Fulfiller([])

    def deliver(self, type_: str, obj: dict, at: int) -> None:
        assert process(make_event(type_, obj, created=at), self.store, self.fulfiller) == "applied"

    def session(self, *, days_ago: float, amount: int, currency: str = "usd", product: str = "T-shirt",
                quantity: int = 1, listed: int | None = None, **extra) -> dict:
        items = [{"price": f"price_{product.lower()}", "quantity": quantity, "description": product,
                  "amount_total": amount if listed is None else listed}]
        extra.setdefault("payment_intent", f"pi_{uuid.uuid4().hex[:12]}")
        return make_session(amount_total=amount, currency=currency, created=self.now - int(days_ago * DAY),
                            metadata={"static_checkout_items": json.dumps(items)}, **extra)

    def paid(self, **kwargs) -> dict:
        session = self.session(**kwargs)
        self.deliver("checkout.session.completed", session, session["created"] + 120)
        return session

    def expired(self, **kwargs) -> dict:
        session = self.session(status="expired", payment_status="unpaid", **kwargs)
        self.deliver("checkout.session.expired", session, session["created"] + DAY)
        return session

    def failed(self, **kwargs) -> dict:
        session = self.session(payment_status="unpaid", **kwargs)
        self.deliver("checkout.session.completed", session, session["created"] + 60)
        self.deliver("checkout.session.async_payment_failed", session, session["created"] + 2 * DAY)
        return session

    def refund(self, session: dict, refunded: int) -> None:
        charge = make_charge(session["payment_intent"], amount=session["amount_total"], amount_refunded=refunded)
        self.deliver("charge.refunded", charge, session["created"] + 3 * DAY)

    def dispute(self, session: dict, *, closed_as: str | None = None) -> None:
        dispute = dict(make_dispute(session["payment_intent"]), amount=session["amount_total"])
        self.deliver("charge.dispute.created", dispute, session["created"] + 4 * DAY)
        if closed_as:
            self.deliver("charge.dispute.closed", dict(dispute, status=closed_as), session["created"] + 9 * DAY)

    def subscription(self, *, status: str, amount: int, currency: str = "usd", interval: str = "month",
                     quantity: int = 1, started_days_ago: float, trial_days: int | None = None,
                     ended_days_ago: float | None = None) -> str:
        sub_id = f"sub_{uuid.uuid4().hex[:14]}"
        start = self.now - int(started_days_ago * DAY)
        price = dict(copy.deepcopy(FIXTURES["price"]), id=f"price_{uuid.uuid4().hex[:8]}", unit_amount=amount,
                     currency=currency, recurring={"interval": interval, "interval_count": 1})
        item = dict(copy.deepcopy(FIXTURES["subscription_item"]), price=price, quantity=quantity,
                    current_period_end=start + 30 * DAY)
        ended = None if ended_days_ago is None else self.now - int(ended_days_ago * DAY)
        sub = dict(copy.deepcopy(FIXTURES["subscription"]), id=sub_id, status=status, currency=currency,
                   created=start, start_date=start, trial_end=start + trial_days * DAY if trial_days else None,
                   ended_at=ended, canceled_at=ended, cancel_at=None, items={"object": "list", "data": [item]})
        self.deliver("customer.subscription.created", dict(sub, status="trialing" if trial_days else "active",
                                                           ended_at=None, canceled_at=None), start)
        if status != "active":
            self.deliver("customer.subscription.updated" if ended is None else "customer.subscription.deleted",
                         sub, ended or self.now - 60)
        return sub_id

    def failed_invoice(self, sub_id: str, amount_due: int, currency: str) -> None:
        invoice = {"id": f"in_{uuid.uuid4().hex[:10]}", "parent": {"subscription_details": {"subscription": sub_id}},
                   "amount_due": amount_due, "amount_paid": 0, "currency": currency,
                   "lines": {"data": [{"period": {"start": self.now - DAY, "end": self.now + 29 * DAY}}]}}
        self.deliver("invoice.payment_failed", invoice, self.now - 30)


def record_the_shop(store, now: int) -> dict:
    """The orders and subscriptions whose report is worked out by hand in the test below."""
    r = Records(store, now)
    r.paid(days_ago=20, amount=3000, product="T-shirt", quantity=2)  # o1
    o2 = r.paid(days_ago=15, amount=2500, product="Poster")
    r.refund(o2, 1000)  # partly refunded
    o3 = r.paid(days_ago=12, amount=2500, product="Poster")
    r.dispute(o3)  # still open
    r.expired(days_ago=10, amount=1500, product="T-shirt")  # abandoned
    r.failed(days_ago=9, amount=1500, product="T-shirt")
    r.paid(days_ago=8, amount=0, listed=500, product="Membership", mode="subscription",
           payment_status="no_payment_required", payment_intent=None)  # a trial's start
    r.paid(days_ago=7, amount=500, product="Membership", mode="subscription", payment_intent=None)
    awaiting = r.session(days_ago=1, amount=1500, payment_status="unpaid")
    r.deliver("checkout.session.completed", awaiting, now - 3600)  # awaiting a bank transfer: not ended
    o9 = r.paid(days_ago=6, amount=1400, currency="eur", product="T-shirt")
    r.refund(o9, 1400)  # all of it
    o10 = r.paid(days_ago=5, amount=2200, currency="eur", product="Poster")
    r.dispute(o10, closed_as="won")
    r.paid(days_ago=2, amount=3000, currency="jpy", product="Poster")
    r.paid(days_ago=100, amount=9999, product="T-shirt")  # before the window

    subs = {
        "s1": r.subscription(status="active", amount=500, started_days_ago=60),
        "s2": r.subscription(status="active", amount=6000, interval="year", started_days_ago=40),
        "s3": r.subscription(status="trialing", amount=500, started_days_ago=4, trial_days=14),
        "s4": r.subscription(status="canceled", amount=500, started_days_ago=50, ended_days_ago=10),
        "s5": r.subscription(status="past_due", amount=1000, currency="eur", quantity=2, started_days_ago=45),
        "s6": r.subscription(status="active", amount=100, interval="week", started_days_ago=20),
    }
    r.failed_invoice(subs["s5"], 2000, "eur")
    return subs


def read_report(store, now: int, **options) -> dict:
    since = now - 90 * DAY
    return build(report_data.orders_since(store, since), report_data.subscriptions(store), since=since, now=now,
                 **options)


def test_report_figures_equal_those_worked_out_by_hand(store):
    now = int(time.time())
    record_the_shop(store, now)
    report = read_report(store, now, bucket="day")

    usd, eur, jpy = (report["orders"][c] for c in ("usd", "eur", "jpy"))
    assert set(report["orders"]) == {"usd", "eur", "jpy"}  # never one sum across currencies
    # USD: o1 3000 + o2 2500 + o3 2500 + o7 500; o2 refunded 1000, o3 disputed 2500; the trial charged nothing.
    assert {k: usd[k] for k in ("orders", "no_charge_orders", "gross", "refunded", "disputed", "net",
                                "average_order_value")} == {
        "orders": 4, "no_charge_orders": 1, "gross": 8500, "refunded": 1000, "disputed": 2500, "net": 5000,
        "average_order_value": 2125}
    # EUR: 1400 refunded in full; the dispute on 2200 was won, so it takes nothing.
    assert (eur["orders"], eur["gross"], eur["refunded"], eur["disputed"], eur["net"]) == (2, 3600, 1400, 0, 2200)
    assert (jpy["orders"], jpy["gross"], jpy["net"], jpy["average_order_value"]) == (1, 3000, 3000, 3000)
    assert sum(p["gross"] for p in usd["series"]) == 8500 and sum(p["net"] for p in usd["series"]) == 5000
    assert [p["product"] for p in usd["top_products"]] == ["Poster", "T-shirt", "Membership"]
    assert [(p["revenue"], p["units"]) for p in usd["top_products"]] == [(5000, 2), (3000, 2), (500, 1)]
    assert [p["product"] for p in usd["top_products_by_units"]] == ["Poster", "T-shirt", "Membership"]

    conversion = {row["product"]: row for row in report["conversion"]}
    tshirt = conversion["T-shirt"]  # o1 and o9 paid, o4 expired, o5 failed; the awaiting one has not ended
    assert (tshirt["paid"], tshirt["expired"], tshirt["failed"], tshirt["ended"], tshirt["rate"]) == (2, 1, 1, 4, 0.5)
    assert tshirt["abandoned_value"] == {"usd": 1500}
    assert (conversion["Poster"]["rate"], conversion["Membership"]["rate"]) == (1.0, 1.0)
    assert report["abandoned"] == {"sessions": 1, "value": {"usd": 1500}}

    subs = report["subscriptions"]
    # 500 a month, 6000 a year (500 a month), 100 a week (433.33 a month); the trial and the canceled one
    # pay nothing now; 2 × 1000 EUR a month though past due.
    assert subs["mrr"] == {"usd": 1433, "eur": 2000}
    assert subs["counts"] == {"active": 3, "canceled": 1, "past_due": 1, "trialing": 1}
    assert subs["trialing"] == 1 and subs["past_due"] == {"subscriptions": 1, "amount_due": {"eur": 2000}}
    # Live 30 days ago: s1, s2, s4, s5; of them s4 ended since.
    assert subs["churn_rate_30d"] == 0.25
    assert sum(m["new"] for m in subs["months"]) == 6 and sum(m["canceled"] for m in subs["months"]) == 1
    usd_mrr = {p["at"]: p["mrr"] for p in subs["mrr_series"]["usd"]}
    assert usd_mrr[now] == 1433
    # Two weeks ago s4 still paid and s6 had started: 500 + 500 + 500 + 433.
    assert [v for at, v in usd_mrr.items() if now - 15 * DAY < at <= now - 14 * DAY] == [1933]
    assert report["definitions"]["mrr"].startswith("Monthly recurring revenue")


def test_one_currency_only(store):
    now = int(time.time())
    record_the_shop(store, now)
    report = read_report(store, now, currency="EUR")
    assert set(report["orders"]) == {"eur"} and report["currency"] == "eur"
    assert report["subscriptions"]["mrr"] == {"eur": 2000} and report["abandoned"]["sessions"] == 0


def test_a_buyer_refunded_in_their_own_currency_counts_in_the_orders(store):
    """Adaptive Pricing: the order is 30.00 USD, the buyer paid 27.90 EUR and is refunded and disputes in
    EUR. The report counts the same share of the USD order, never EUR cents as USD."""
    now = int(time.time())
    records = Records(store, now)
    buyer_eur = {"presentment_details": {"presentment_amount": 2790, "presentment_currency": "eur"}}
    refunded = records.paid(days_ago=5, amount=3000, **buyer_eur)
    charge = make_charge(refunded["payment_intent"], amount=2790, amount_refunded=1395, currency="eur")
    records.deliver("charge.refunded", charge, refunded["created"] + DAY)
    disputed = records.paid(days_ago=4, amount=3000, **buyer_eur)
    dispute = dict(make_dispute(disputed["payment_intent"], amount=2790), currency="eur")
    records.deliver("charge.dispute.created", dispute, disputed["created"] + DAY)
    usd = read_report(store, now)["orders"]["usd"]
    assert (usd["gross"], usd["refunded"], usd["disputed"], usd["net"]) == (6000, 1500, 3000, 1500)


def test_weeks_start_on_monday_and_add_up_to_the_days(store):
    now = int(time.time())
    record_the_shop(store, now)
    weekly, daily = read_report(store, now, bucket="week"), read_report(store, now, bucket="day")
    assert all(time.gmtime(p["start"]).tm_wday == 0 for p in weekly["orders"]["usd"]["series"])
    assert (sum(p["gross"] for p in weekly["orders"]["usd"]["series"])
            == sum(p["gross"] for p in daily["orders"]["usd"]["series"]) == 8500)


def test_an_empty_table_reports_nothing_without_failing():
    from tests.fakes import MemoryStore

    report = read_report(MemoryStore(), int(time.time()))
    assert report["orders"] == {} and report["conversion"] == [] and report["subscriptions"]["mrr"] == {}


def test_sparklines_scale_to_the_largest_and_squeeze_long_series():
    assert sparkline([0, 1, 2, 4]) == "▁▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert len(sparkline(list(range(90)))) <= 40


# --- the command ---


@pytest.fixture
def report_table(cli_table) -> DynamoStore:
    record_the_shop(cli_table, int(time.time()))
    return cli_table


def test_report_json_is_the_documented_shape(report_table, capsys):
    assert main(["report", "--since", "90d", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == SCHEMA == "static-checkout.report/1"
    assert set(report) == {"schema", "generated_at", "since", "until", "bucket", "currency", "orders", "conversion",
                           "abandoned", "subscriptions", "definitions"}
    assert report["bucket"] == "week" and report["until"] - report["since"] == 90 * DAY
    usd = report["orders"]["usd"]
    assert set(usd) == {"orders", "no_charge_orders", "gross", "refunded", "disputed", "net", "average_order_value",
                        "series", "top_products", "top_products_by_units"}
    assert set(usd["series"][0]) == {"start", "gross", "net", "orders"}
    assert set(usd["top_products"][0]) == {"product", "revenue", "units"}
    assert set(report["conversion"][0]) == {"product", "paid", "expired", "failed", "ended", "rate",
                                            "abandoned_value"}
    assert set(report["abandoned"]) == {"sessions", "value"}
    subs = report["subscriptions"]
    assert set(subs) == {"counts", "mrr", "mrr_series", "trialing", "past_due", "months", "churn_rate_30d",
                         "unpriced"}
    assert set(subs["mrr_series"]["usd"][0]) == {"at", "mrr"}
    assert set(subs["months"][0]) == {"month", "new", "canceled", "active_at_start", "churn_rate"}
    assert all(isinstance(v, int) for v in (usd["gross"], usd["net"], subs["mrr"]["usd"]))  # minor units


def test_report_in_the_terminal_has_aligned_tables_sparklines_and_definitions(report_table, capsys):
    assert main(["report", "--since", "30d"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sales report: orders created ") and "by day" in out
    usd = next(line for line in out.splitlines() if line.startswith("USD "))
    assert "85.00 USD" in usd and "10.00 USD" in usd and "25.00 USD" in usd and "50.00 USD" in usd
    assert any(ch in usd for ch in "▂▃▄▅▆▇█")
    assert "Conversion per product" in out and "50.0%" in out
    assert "Abandoned: 1 session(s) expired unpaid, worth 15.00 USD." in out
    assert "14.33 USD" in out and "20.00 EUR" in out and "owing 20.00 EUR" in out
    assert "churn over the last 30 days 25.0%" in out and "\nmrr: Monthly recurring revenue" in out
    header = next(line for line in out.splitlines() if line.startswith("currency  orders"))
    assert usd.index("85.00 USD") + len("85.00 USD") == header.index("gross") + len("gross")  # right-aligned


def test_report_refuses_a_malformed_currency(report_table, capsys):
    with pytest.raises(SystemExit):
        main(["report", "--currency", "dollars"])
    assert "three-letter currency code" in capsys.readouterr().err


def test_report_html_is_one_file_that_loads_nothing(report_table, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--html", str(out)]) == 0
    assert f"Wrote {out}." in capsys.readouterr().out
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "default-src 'none'" in html
    assert not re.search(r"""\b(?:src|href)\s*=|@import|url\(""", html)  # nothing to fetch
    assert html.count("<svg") >= 5  # revenue ×3 currencies, MRR ×2, conversion


@pytest.mark.browser
def test_report_html_in_chromium_shows_its_charts_and_sends_no_request(report_table, tmp_path):
    from tests.test_browser import ARGS, CHROMIUM

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: CI must install Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    assert main(["report", "--html", str(out)]) == 0
    address = "https://report.invalid/report.html"  # served from the file by the route below, nowhere else
    requests: list[str] = []

    def route(request_route) -> None:
        requests.append(request_route.request.url)
        if request_route.request.url == address:
            request_route.fulfill(body=out.read_text(), content_type="text/html; charset=utf-8")
        else:
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            violations: list[str] = []
            page.on("console", lambda message: violations.append(message.text) if message.type == "error" else None)
            page.route("**/*", route)
            page.goto(address)
            page.wait_for_load_state("networkidle")
            for selector in ("figure.revenue-chart rect.bar", "figure.mrr-chart polyline.line",
                             "figure.conversion-chart rect.bar"):
                box = page.locator(selector).first.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, selector
            assert page.locator("figure.revenue-chart").count() == 3 and page.locator("figure.mrr-chart").count() == 2
            assert page.locator("figure.conversion-chart rect.bar").count() == 3  # one per product
            assert "Sales report" in page.title() and page.get_by_text("Definitions").is_visible()
            page.emulate_media(media="print")
            assert page.locator("figure.mrr-chart svg").first.bounding_box()["width"] > 100
            assert page.pdf()[:4] == b"%PDF"
            assert requests == [address], requests  # the page itself, and nothing else
            assert violations == []
        finally:
            browser.close()
