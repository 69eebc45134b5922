"""The seller's runbook as commands: change a plan (previewed, then applied with --yes), retry a failed
payment, cancel and resume — each naming the subscription by ID or by its customer's email. Stripe is the
stand-in through the real stripe package; our orders are in DynamoDB over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from shared.cli.main import main
from shared.demo.standin import StripeStandIn
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller
from shared.store.dynamo import DynamoStore
from tests.conftest import SECRET_KEY
from tests.fakes import make_event, make_session


@dataclass
class Shop:
    standin: StripeStandIn
    store: DynamoStore
    basic: dict
    pro: dict
    euro: dict
    one_time: dict
    unlisted: dict
    first_request: int

    def customer(self, email: str | None = None, *, price: dict | None = None,
                 ordered: bool = True) -> tuple[str, dict]:
        """A customer subscribed to `price` (basic), who bought it through our pages unless `ordered=False`."""
        email = email or f"{uuid.uuid4().hex[:8]}@example.com"
        customer = self.standin.add_customer(email=email)
        sub = self.standin.add_subscription(customer=customer["id"], price=(price or self.basic)["id"])
        if ordered:
            self.record_order(email, customer["id"], sub["id"])
        return email, sub

    def record_order(self, email: str, customer: str, subscription: str) -> None:
        session = make_session(mode="subscription", email=email, customer=customer, subscription=subscription,
                               payment_intent=None)
        process(make_event("checkout.session.completed", session), self.store, Fulfiller([]))

    def sub(self, sub_id: str) -> dict:
        return self.standin.subscriptions[sub_id]

    def price_of(self, sub_id: str) -> str:
        return self.sub(sub_id)["items"]["data"][0]["price"]["id"]

    def requests(self, method: str, path: str) -> list:
        """The stand-in serves every test of the session: requests to this path, this test's only."""
        return [r for r in self.standin.requests[self.first_request:] if r["method"] == method and r["path"] == path]

    def previews(self, sub_id: str) -> list:
        return [r for r in self.requests("POST", "/v1/invoices/create_preview")
                if r["params"].get("subscription") == sub_id]

    def plan_updates(self, sub_id: str) -> list:
        return [r for r in self.requests("POST", f"/v1/subscriptions/{sub_id}") if "items" in r["params"]]


@pytest.fixture
def shop(monkeypatch, standin, local_dynamo, tmp_path) -> Shop:
    tag = uuid.uuid4().hex[:6]
    monthly = {"interval": "month"}
    basic = standin.add_price(unit_amount=1000, recurring=monthly, lookup_key=f"basic-{tag}", product_name="Basic")
    pro = standin.add_price(unit_amount=3000, recurring=monthly, lookup_key=f"pro-{tag}", product_name="Pro")
    euro = standin.add_price(unit_amount=3000, currency="eur", recurring=monthly, product_name="Pro EU")
    one_time = standin.add_price(unit_amount=3000, product_name="Mug")
    unlisted = standin.add_price(unit_amount=9000, recurring=monthly, product_name="Secret")
    table = f"ops-{tag}"
    for name, value in {
        "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url, "DYNAMODB_ENDPOINT_URL": local_dynamo.url,
        "DYNAMODB_TABLE": table, "AWS_REGION": "us-east-1",
        "ALLOWED_PRICES": ",".join([basic["id"], f"pro-{tag}", euro["id"], one_time["id"]]),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    store = DynamoStore(table, endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    return Shop(standin, store, basic, pro, euro, one_time, unlisted, len(standin.requests))


# --- change-plan ---


def test_change_plan_by_id_previews_the_charge_then_applies_it_with_yes(shop, capsys):
    _, sub = shop.customer()
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.pro["lookup_key"],
                 "--proration", "always_invoice", "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"{sub['id']} (" in out and f"{shop.basic['lookup_key']} 10.00 USD/month → " \
                                      f"{shop.pro['lookup_key']} 30.00 USD/month" in out
    assert "Charged now, on an invoice of its own:" in out
    assert "-10.00 USD  Unused time on 1 × Basic" in out and "30.00 USD  Remaining time on 1 × Pro" in out
    assert "20.00 USD  total due" in out
    assert shop.price_of(sub["id"]) == shop.pro["id"]
    invoice = shop.standin.invoices[shop.sub(sub["id"])["latest_invoice"]]
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 2000)
    assert f"is now on {shop.pro['lookup_key']} 30.00 USD/month. Invoice {invoice['id']} for 20.00 USD is paid." in out
    # The change is priced at the moment that was previewed.
    [preview], [update] = shop.previews(sub["id"]), shop.plan_updates(sub["id"])
    assert update["params"]["proration_date"] == preview["params"]["subscription_details"]["proration_date"]
    assert update["params"]["proration_behavior"] == "always_invoice"


def test_change_plan_by_email_without_yes_changes_nothing(shop, capsys):
    email, sub = shop.customer()
    assert main(["subscriptions", "change-plan", email, "--price", shop.pro["lookup_key"]]) == 1
    out = capsys.readouterr().out
    assert f"{sub['id']} ({email})" in out and "On the next invoice, " in out
    assert "(proration)" in out and "Not applied: add --yes to apply it." in out
    assert shop.price_of(sub["id"]) == shop.basic["id"]
    assert not shop.plan_updates(sub["id"])


def test_change_plan_asks_on_a_terminal(shop, capsys, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    _, sub = shop.customer()
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.pro["lookup_key"]]) == 0
    assert "Apply this change? [y/N] Not applied." in capsys.readouterr().out
    assert shop.price_of(sub["id"]) == shop.basic["id"]
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.pro["lookup_key"]]) == 0
    assert shop.price_of(sub["id"]) == shop.pro["id"]


def test_change_plan_without_proration_charges_the_new_price_from_the_next_period(shop, capsys):
    _, sub = shop.customer()
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.pro["lookup_key"],
                 "--proration", "none", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "(proration)" not in out and "30.00 USD  1 × Pro" in out and "30.00 USD  total due" in out
    [preview] = shop.previews(sub["id"])
    assert "proration_date" not in preview["params"]["subscription_details"]  # Stripe refuses it with `none`
    assert shop.price_of(sub["id"]) == shop.pro["id"]


@pytest.mark.parametrize(("price", "message"), [
    ("unlisted", "is not for sale here"),
    ("euro", "is in EUR and sub_"),
    ("one_time", "is a one-time price"),
])
def test_change_plan_refuses_a_price_it_may_not_move_to(shop, capsys, price, message):
    _, sub = shop.customer()
    assert main(["subscriptions", "change-plan", sub["id"], "--price", getattr(shop, price)["id"], "--yes"]) == 1
    assert message in capsys.readouterr().err
    assert shop.price_of(sub["id"]) == shop.basic["id"]
    assert not shop.previews(sub["id"])


def test_change_plan_to_the_current_price_does_nothing(shop, capsys):
    _, sub = shop.customer()
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.basic["id"], "--yes"]) == 0
    assert "nothing to change" in capsys.readouterr().out


# --- retry ---


def test_retry_by_email_reports_the_decline_then_pays_once_the_card_works(shop, capsys):
    email, sub = shop.customer()
    invoice = shop.standin.add_invoice(sub["id"])
    shop.standin.set_card(sub["customer"], "declines", decline_code="insufficient_funds")
    assert shop.sub(sub["id"])["status"] == "past_due"

    assert main(["subscriptions", "retry", email]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Declined (insufficient_funds): Your card has insufficient funds. Invoice")
    assert f"Invoice {invoice['id']} for 10.00 USD stays open" in out and invoice["hosted_invoice_url"] in out
    assert shop.standin.invoices[invoice["id"]]["status"] == "open"

    shop.standin.set_card(sub["customer"], "pays")
    assert main(["subscriptions", "retry", email]) == 0
    assert f"Paid: invoice {invoice['id']} for 10.00 USD" in capsys.readouterr().out
    assert shop.standin.invoices[invoice["id"]]["status"] == "paid" and shop.sub(sub["id"])["status"] == "active"

    assert main(["subscriptions", "retry", sub["id"]]) == 0
    assert "has no open invoice: nothing to retry" in capsys.readouterr().out


def test_retry_by_id_that_needs_the_customer_gives_the_invoice_page(shop, capsys):
    _, sub = shop.customer()
    invoice = shop.standin.add_invoice(sub["id"], amount_due=1234)
    shop.standin.set_card(sub["customer"], "requires_action")
    assert main(["subscriptions", "retry", sub["id"]]) == 1
    out = capsys.readouterr().out
    assert "wants them to confirm invoice" in out and "12.34 USD" in out and invoice["hosted_invoice_url"] in out


def test_a_plan_change_whose_payment_fails_says_how_to_retry(shop, capsys):
    _, sub = shop.customer()
    shop.standin.set_card(sub["customer"], "declines")
    assert main(["subscriptions", "change-plan", sub["id"], "--price", shop.pro["lookup_key"],
                 "--proration", "always_invoice", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "is open: its payment did not go through" in out and f"subscriptions retry {sub['id']}" in out


# --- cancel and resume by email; finding the subscription ---


def test_cancel_and_resume_by_email(shop, capsys):
    email, sub = shop.customer()
    assert main(["subscriptions", "cancel", email, "--at-period-end"]) == 0
    assert f"{sub['id']} will cancel at the end of its period" in capsys.readouterr().out
    assert shop.sub(sub["id"])["cancel_at_period_end"] is True
    assert main(["subscriptions", "resume", email]) == 0
    assert f"{sub['id']} will renew on" in capsys.readouterr().out
    assert main(["subscriptions", "cancel", email]) == 0
    assert shop.sub(sub["id"])["status"] == "canceled"


def test_an_email_with_several_live_subscriptions_is_listed_not_guessed(shop, capsys):
    email, first = shop.customer()
    second = shop.standin.add_subscription(customer=first["customer"], price=shop.pro["id"])
    assert main(["subscriptions", "cancel", email]) == 1
    err = capsys.readouterr().err
    assert f"{email} has 2 live subscriptions; name one by its ID:" in err
    assert first["id"] in err and second["id"] in err
    assert shop.sub(first["id"])["status"] == shop.sub(second["id"])["status"] == "active"
    assert not shop.requests("DELETE", f"/v1/subscriptions/{first['id']}")
    assert not shop.requests("DELETE", f"/v1/subscriptions/{second['id']}")


def test_an_email_across_two_customers_counts_both(shop, capsys):
    email, first = shop.customer()
    _, second = shop.customer(email)  # the same buyer checked out twice, as two Stripe customers
    assert main(["subscriptions", "retry", email]) == 1
    err = capsys.readouterr().err
    assert "has 2 live subscriptions" in err and first["id"] in err and second["id"] in err


def test_an_email_only_stripe_knows_is_found_by_customer_search(shop, capsys):
    email, sub = shop.customer(ordered=False)
    assert main(["subscriptions", "cancel", email, "--at-period-end"]) == 0
    assert shop.sub(sub["id"])["cancel_at_period_end"] is True
    [search] = shop.requests("GET", "/v1/customers/search")
    assert search["params"]["query"] == f"email:'{email}'"


def test_an_email_in_our_orders_needs_no_search(shop, capsys):
    email, sub = shop.customer(email=f"Mixed.Case-{uuid.uuid4().hex[:6]}@Example.com")
    assert main(["subscriptions", "resume", email.lower()]) == 0  # our index folds case
    assert "not scheduled to cancel" in capsys.readouterr().out
    assert not shop.requests("GET", "/v1/customers/search")


def test_an_email_with_only_ended_subscriptions_says_so(shop, capsys):
    email, sub = shop.customer()
    assert main(["subscriptions", "cancel", sub["id"]]) == 0
    capsys.readouterr()
    assert main(["subscriptions", "cancel", email]) == 1
    assert f"{email} has no live subscription; ended: {sub['id']} (canceled)." in capsys.readouterr().err


@pytest.mark.parametrize(("who", "message"), [
    ("nobody-{tag}@example.com", "No customer with the email nobody-"),
    ("not-an-id", "is neither a subscription ID (sub_…) nor an email"),
])
def test_unknown_customers_and_malformed_names_are_clear_errors(shop, capsys, who, message):
    assert main(["subscriptions", "retry", who.format(tag=uuid.uuid4().hex[:6])]) == 1
    assert message in capsys.readouterr().err


def test_without_our_table_an_email_is_still_found_through_stripe(shop, capsys, monkeypatch):
    email, sub = shop.customer()
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["subscriptions", "cancel", email, "--at-period-end"]) == 0
    assert shop.sub(sub["id"])["cancel_at_period_end"] is True
    assert shop.requests("GET", "/v1/customers/search")
