"""`catalog sync` and `catalog render`: the file validated, a pure plan, Stripe made to match, the page."""

from __future__ import annotations

import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from shared.checkout.stripe_api import StripeGateway
from shared.cli.catalog import KEY_METADATA, TRIAL_METADATA, CatalogError, Item, minor_units, parse, read
from shared.cli.catalog_page import render_page, snippet
from shared.cli.catalog_sync import Current, plan
from shared.cli.main import main
from shared.errors import UpstreamError
from tests.conftest import SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def catalog_env(monkeypatch, standin, tmp_path):
    for name in ("DYNAMODB_TABLE", "SITE_URL", "ALLOWED_PRICES", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", standin.url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


def write_catalog(path: Path, suffix: str, *, shirt: str = "15.00", trial: int | None = 14, name: str = "T-shirt",
                  extra: str = "") -> Path:
    trial_line = f"\n    trial_days: {trial}" if trial else ""
    path.write_text(f"""
items:
  - lookup_key: shirt-{suffix}
    name: {name}
    description: Soft cotton.
    amount: {shirt}{extra}
  - lookup_key: club-{suffix}
    name: Club
    amount: 5
    interval: month{trial_line}
""")
    return path


def posts(standin, since: int) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in standin.requests[since:] if r["method"] != "GET"]


# --- the file ---


def test_the_example_catalog_is_valid_and_matches_the_demo_store():
    catalog = read(ROOT / "catalog.example.yml")
    assert [(i.lookup_key, i.unit_amount, i.interval) for i in catalog.items] == [
        ("tshirt", 1500, None), ("poster", 2500, None), ("membership", 500, "month")]
    assert catalog.items[2].trial_days == 14


@pytest.mark.parametrize("amount, currency, units", [
    (15, "usd", 1500), (19.99, "usd", 1999), ("0.10", "eur", 10), (1500, "jpy", 1500), (1.25, "kwd", 1250),
    (100, "isk", 10000), (0, "usd", 0),
])
def test_amounts_become_stripes_minor_units(amount, currency, units):
    assert minor_units(amount, currency) == units


@pytest.mark.parametrize("amount, currency, says", [
    (15.001, "usd", "at most 2 decimals"), (1500.5, "jpy", "whole amounts"), (1.255, "kwd", "end in 0"),
    ("ten", "usd", "not a number"), (-1, "usd", "zero or more"), (True, "usd", "must be a number"),
    (100.5, "isk", "whole amounts"), ("nan", "usd", "zero or more"),
])
def test_malformed_amounts_say_why(amount, currency, says):
    with pytest.raises(ValueError, match=says):
        minor_units(amount, currency)


def test_every_problem_is_reported_at_once_naming_the_item_and_field():
    with pytest.raises(CatalogError) as caught:
        parse({"items": [
            {"name": "No key", "amount": 5},
            {"lookup_key": "mug", "name": "Mug", "amount": "12,50"},
            {"lookup_key": "club", "name": "Club", "amount": 5, "interval": "fortnight"},
            {"lookup_key": "gift", "name": "Gift", "amount": 5, "trial_days": 7},
            {"lookup_key": "mug", "name": "Mug again", "amount": 5, "colour": "red"},
            {"lookup_key": "has space", "name": "Bad key", "amount": 5},
            {"lookup_key": "yen", "name": "Yen", "amount": 10.5, "currency": "jpy"},
        ]})
    problems = caught.value.problems
    assert problems == [
        "item 1: lookup_key: required: letters, digits and _ . : - (at most 200), e.g. tshirt-2026",
        "item mug: amount: 12,50 is not a number, e.g. 15.00",
        "item club: interval: 'fortnight' is not one of day, week, month, year (leave it out for a one-time price)",
        "item gift: trial_days: only a recurring item (with an interval) can have a trial",
        "item mug: colour: unknown field; expected one of amount, art, checkout, currency, description, images, "
        "interval, interval_count, lookup_key, name, stock, trial_days",
        "item has space: lookup_key: required: letters, digits and _ . : - (at most 200), e.g. tshirt-2026",
        "item yen: amount: 10.5: JPY takes whole amounts",
    ]


def test_duplicate_lookup_keys_and_an_empty_catalog_are_refused():
    with pytest.raises(CatalogError, match="lookup_key is used by another item"):
        parse([{"lookup_key": "a", "name": "A", "amount": 1}, {"lookup_key": "a", "name": "B", "amount": 2}])
    with pytest.raises(CatalogError, match="needs a list of items"):
        parse({"items": []})


def test_an_unreadable_or_malformed_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read it"):
        read(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("items:\n  - lookup_key: [unclosed\n")
    with pytest.raises(CatalogError, match="not valid YAML at line"):
        read(bad)


# --- the plan (pure) ---


def item(**overrides) -> Item:
    fields: dict[str, Any] = {"lookup_key": "shirt", "name": "T-shirt", "unit_amount": 1500, "currency": "usd",
                              "description": "Soft."} | overrides
    return Item(**fields)


def stripe_price(**overrides) -> dict:
    product = {"id": "prod_1", "name": "T-shirt", "description": "Soft.", "images": [], "active": True,
               "metadata": {KEY_METADATA: "shirt"}}
    price = {"id": "price_old", "lookup_key": "shirt", "unit_amount": 1500, "currency": "usd", "recurring": None,
             "active": True, "metadata": {KEY_METADATA: "shirt"}, "product": product}
    return price | overrides


def test_a_new_item_makes_a_product_and_a_price():
    actions = plan([item()], Current({}, {}))
    assert [(a.kind, a.target) for a in actions] == [("create_product", None), ("create_price", None)]
    assert actions[1].params == {"currency": "usd", "unit_amount": 1500, "lookup_key": "shirt",
                                 "metadata": {KEY_METADATA: "shirt"}}


def test_a_matching_price_and_product_change_nothing():
    assert [a.kind for a in plan([item()], Current({"shirt": stripe_price()}, {}))] == ["unchanged"]


def test_a_new_amount_makes_a_new_price_that_takes_the_lookup_key_and_keeps_the_old_one_on_sale():
    actions = plan([item(unit_amount=1800)], Current({"shirt": stripe_price()}, {}))
    assert [(a.kind, a.target) for a in actions] == [("create_price", "prod_1")]
    assert actions[0].params["transfer_lookup_key"] is True and actions[0].params["unit_amount"] == 1800
    assert "replaces price_old (15.00 USD one-time)" in actions[0].note
    archived = plan([item(unit_amount=1800)], Current({"shirt": stripe_price()}, {}), archive_replaced=True)
    assert [(a.kind, a.target) for a in archived] == [("create_price", "prod_1"), ("archive_price", "price_old")]


def test_a_new_interval_or_currency_also_makes_a_new_price():
    assert plan([item(interval="month")], Current({"shirt": stripe_price()}, {}))[0].kind == "create_price"
    assert plan([item(currency="eur")], Current({"shirt": stripe_price()}, {}))[0].kind == "create_price"


def test_product_fields_are_updated_in_place_and_emptied_the_way_stripe_unsets_them():
    current = Current({"shirt": stripe_price(product={**stripe_price()["product"], "images": ["https://x/a.png"],
                                                       "active": False})}, {})
    [action] = plan([item(name="Tee", description=None)], current)
    assert (action.kind, action.target) == ("update_product", "prod_1")
    assert action.params == {"name": "Tee", "description": "", "images": "", "active": True}


def test_trial_days_live_in_the_price_metadata_and_change_in_place():
    current = Current({"shirt": stripe_price(recurring={"interval": "month", "interval_count": 1})}, {})
    [action] = plan([item(interval="month", trial_days=14)], current)
    assert (action.kind, action.params) == ("update_price", {"metadata": {TRIAL_METADATA: "14"}})
    current.prices["shirt"]["metadata"][TRIAL_METADATA] = "14"
    [removed] = plan([item(interval="month")], current)
    assert removed.params == {"metadata": {TRIAL_METADATA: ""}}  # "" deletes a metadata key


def test_an_archived_price_with_the_same_terms_is_put_back_on_sale():
    [action] = plan([item()], Current({"shirt": stripe_price(active=False)}, {}))
    assert (action.kind, action.target, action.params) == ("update_price", "price_old", {"active": True})


def test_a_product_made_by_an_earlier_run_is_reused_when_its_price_is_missing():
    product = {**stripe_price()["product"], "id": "prod_earlier"}
    actions = plan([item()], Current({}, {"shirt": product}))
    assert [(a.kind, a.target) for a in actions] == [("create_price", "prod_earlier")]


# --- the page ---


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: set[str] = set()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self.classes.update((attributes.get("class") or "").split())


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_render_keeps_the_demo_pages_structure_and_names_prices_by_lookup_key():
    catalog = read(ROOT / "catalog.example.yml")
    page = parsed(render_page(catalog))
    demo = parsed((ROOT / "public" / "index.html").read_text())
    card_classes = {c for c in demo.classes if c.startswith(("card", "price", "buy-", "qty", "stripe-", "products"))}
    assert card_classes <= page.classes
    buttons = [a for tag, a in page.tags if tag == "button" and "data-price-id" in a]
    hidden = [a["value"] for tag, a in page.tags if tag == "input" and a.get("name") == "priceId"]
    assert [b["data-price-id"] for b in buttons] == hidden == ["tshirt", "poster", "membership"]
    # One-time items can go to the cart too, with their price as the cart shows it (hidden until cart.js runs).
    to_cart = [a for tag, a in page.tags if tag == "button" and "data-add-to-cart" in a]
    assert [(b["data-add-to-cart"], b["data-name"], b["data-unit-amount"], b["data-currency"],
             b["data-currency-exponent"], "hidden" in b) for b in to_cart] == [
        ("tshirt", "T-shirt", "1500", "usd", "2", True), ("poster", "Poster", "2500", "usd", "2", True)]
    assert ("script", {"src": "/js/cart.js", "defer": None}) in page.tags and ("div", {"data-cart": None}) in page.tags
    forms = [a for tag, a in page.tags if tag == "form"]
    assert all(f["method"] == "post" and f["action"] == "/api/create-checkout-session" for f in forms)
    assert ("script", {"src": "/js/stripe-checkout.js", "defer": None}) in page.tags
    quantities = [a for tag, a in page.tags if tag == "input" and a.get("name") == "quantity"]
    assert len(quantities) == 2  # one-time items only
    # The poster pays inside the page, as in the demo: its button names the box Checkout mounts in.
    assert buttons[1]["data-ui-mode"] == "embedded" and buttons[1]["data-checkout-container"] == "#embedded-checkout"
    assert ("section", {"id": "embedded-checkout", "class": "stripe-embedded-checkout", "aria-label": "Checkout"}) \
        in page.tags
    assert "data-ui-mode" not in snippet(catalog.items[0]) and 'data-ui-mode="embedded"' in snippet(catalog.items[1])


def test_render_escapes_every_text_from_the_catalog():
    catalog = parse({"title": "<b>Shop</b>", "lead": "a & b", "items": [
        {"lookup_key": "x", "name": "<script>alert(1)</script>", "description": '"quoted" <i>', "amount": 1}]})
    html = render_page(catalog)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Shop&lt;/b&gt;" in html and "a &amp; b" in html and "&quot;quoted&quot; &lt;i&gt;" in html
    assert "<script>" not in snippet(catalog.items[0])


def test_catalog_render_writes_the_page(catalog_env, capsys):
    out = catalog_env / "index.html"
    assert main(["catalog", "render", str(ROOT / "catalog.example.yml"), "--out", str(out)]) == 0
    assert 'data-price-id="membership"' in out.read_text()
    assert "ALLOWED_PRICES=tshirt,poster,membership" in capsys.readouterr().out
    assert main(["catalog", "render", str(ROOT / "catalog.example.yml"), "--out", str(out / "nowhere.html")]) == 1
    assert f"cannot write {out / 'nowhere.html'}" in capsys.readouterr().err


def test_the_deployed_function_does_not_import_yaml():
    code = ("import sys, shared.web.app, shared.events.intake, shared.checkout.sessions, shared.web.services; "
            "shared.web.app.create_app(); "
            "print('yaml' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False"], result.stderr


# --- sync, against the Stripe stand-in ---


def test_sync_creates_then_changes_nothing_then_replaces_a_changed_price(catalog_env, standin, capsys):
    suffix = uuid.uuid4().hex[:8]
    file = write_catalog(catalog_env / "catalog.yml", suffix)
    assert main(["catalog", "sync", str(file)]) == 0
    out = capsys.readouterr().out
    assert "Plan (test mode):" in out and f"ALLOWED_PRICES=shirt-{suffix},club-{suffix}" in out
    assert f'data-price-id="shirt-{suffix}"' in out and '<input type="hidden" name="priceId"' in out
    shirt = next(p for p in standin.prices.values() if p["lookup_key"] == f"shirt-{suffix}")
    club = next(p for p in standin.prices.values() if p["lookup_key"] == f"club-{suffix}")
    assert (shirt["unit_amount"], shirt["recurring"]) == (1500, None)
    assert club["recurring"]["interval"] == "month" and club["metadata"][TRIAL_METADATA] == "14"
    product = standin.products[shirt["product"]]
    assert product["metadata"][KEY_METADATA] == f"shirt-{suffix}" and product["default_price"] == shirt["id"]
    assert product["description"] == "Soft cotton."

    since = len(standin.requests)
    assert main(["catalog", "sync", str(file)]) == 0
    assert "Nothing to change." in capsys.readouterr().out
    assert posts(standin, since) == []

    write_catalog(file, suffix, shirt="18.00")
    assert main(["catalog", "sync", str(file)]) == 0
    assert "the lookup key moves" in capsys.readouterr().out
    new = next(p for p in standin.prices.values() if p["lookup_key"] == f"shirt-{suffix}")
    assert new["id"] != shirt["id"] and new["unit_amount"] == 1800 and new["product"] == shirt["product"]
    old = standin.prices[shirt["id"]]
    assert old["lookup_key"] is None and old["active"] is True  # kept on sale: a page may name it by ID
    assert standin.products[shirt["product"]]["default_price"] == new["id"]
    # The buy endpoint's look-up now finds the new price by the same key.
    from shared.settings import Settings

    assert StripeGateway(Settings.from_env()).find_price(f"shirt-{suffix}")["id"] == new["id"]


def test_dry_run_prints_the_plan_and_changes_nothing(catalog_env, standin, capsys):
    file = write_catalog(catalog_env / "catalog.yml", uuid.uuid4().hex[:8])
    since = len(standin.requests)
    assert main(["catalog", "sync", str(file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "create product 'T-shirt'" in out and "create price 5.00 USD / month" in out
    assert "Dry run: nothing changed." in out
    assert posts(standin, since) == []


def test_archive_replaced_takes_the_old_price_off_sale(catalog_env, standin, capsys):
    suffix = uuid.uuid4().hex[:8]
    file = write_catalog(catalog_env / "catalog.yml", suffix)
    assert main(["catalog", "sync", str(file)]) == 0
    first = next(p for p in standin.prices.values() if p["lookup_key"] == f"club-{suffix}")
    file.write_text(file.read_text().replace("amount: 5\n", "amount: 6\n"))
    assert main(["catalog", "sync", str(file), "--archive-replaced"]) == 0
    assert f"archived price {first['id']}" in capsys.readouterr().out
    assert standin.prices[first["id"]]["active"] is False


def test_a_sync_stopped_by_a_stripe_failure_continues_on_the_next_run(catalog_env, standin, capsys, monkeypatch):
    suffix = uuid.uuid4().hex[:8]
    file = write_catalog(catalog_env / "catalog.yml", suffix)
    real = StripeGateway.create_price
    calls = []

    def fail_second(self, params):
        calls.append(params["lookup_key"])
        if len(calls) == 2:
            raise UpstreamError("Stripe could not be reached in time; please try again.")
        return real(self, params)

    monkeypatch.setattr(StripeGateway, "create_price", fail_second)
    assert main(["catalog", "sync", str(file)]) == 1
    assert "stopped after 3 change(s)" in capsys.readouterr().err
    monkeypatch.setattr(StripeGateway, "create_price", real)
    assert main(["catalog", "sync", str(file)]) == 0
    out = capsys.readouterr().out
    assert f"shirt-{suffix}" in out and "unchanged" in out
    owned = [p for p in standin.products.values() if p["metadata"].get(KEY_METADATA) == f"club-{suffix}"]
    assert len(owned) == 1  # the product made before the failure was found, not made again


def test_an_invalid_catalog_stops_before_stripe_is_asked(catalog_env, standin, capsys):
    file = catalog_env / "catalog.yml"
    file.write_text("items:\n  - name: Mug\n    amount: 12.345\n")
    since = len(standin.requests)
    assert main(["catalog", "sync", str(file)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s) to fix" in err and "item 1: lookup_key: required" in err
    assert "item 1: amount: 12.345: USD takes at most 2 decimals" in err
    assert standin.requests[since:] == []
