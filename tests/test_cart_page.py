"""The cart's side of the pages, without a browser: the page scripts' size budget, and the prices
`catalog render` writes for the cart script to show."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from shared.cli.catalog import parse
from shared.cli.catalog_page import add_to_cart, render_page, snippet

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 10 * 1024  # bytes: every page script, each gzipped as it is served


def test_all_page_scripts_together_are_at_most_10_kb_gzipped():
    sizes = {path.name: len(gzip.compress(path.read_bytes(), 9)) for path in (ROOT / "public" / "js").glob("*.js")}
    assert {"cart.js", "stripe-checkout.js", "success.js"} <= set(sizes)
    assert sum(sizes.values()) <= BUDGET, sizes


def test_every_page_loads_only_scripts_the_budget_counts():
    counted = {f"/js/{path.name}" for path in (ROOT / "public" / "js").glob("*.js")}
    for page in (ROOT / "public").glob("*.html"):
        assert set(re.findall(r'<script src="([^"]+)"', page.read_text())) <= counted, page.name


def test_the_scripts_built_on_the_buy_script_come_after_it():
    """cart.js, stock.js and success.js use window.StaticCheckout, which stripe-checkout.js defines when it runs:
    deferred scripts run in the page's order."""
    catalog = parse({"items": [{"lookup_key": "tea", "name": "Tea", "amount": 500}]})
    pages = {page.name: page.read_text() for page in (ROOT / "public").glob("*.html")}
    pages["rendered"] = render_page(catalog)
    for name, page in pages.items():
        tags = re.findall(r'<script src="([^"]+)"( defer)?></script>', page)
        scripts = [src for src, _ in tags]
        assert all(deferred for _, deferred in tags), name
        for dependent in ("/js/cart.js", "/js/stock.js", "/js/success.js"):
            if dependent in scripts:
                assert "/js/stripe-checkout.js" in scripts[:scripts.index(dependent)], name
    assert "/js/success.js" in pages["success.html"] and "/js/cart.js" in pages["rendered"]


def test_the_cart_button_carries_the_price_in_stripes_minor_units_and_its_decimals():
    catalog = parse({"items": [
        {"lookup_key": "tea", "name": "Matcha <tin>", "amount": 1500, "currency": "jpy"},
        {"lookup_key": "dates", "name": "Dates", "amount": "2.250", "currency": "kwd"},
        {"lookup_key": "club", "name": "Club", "amount": 5, "interval": "month"}]})
    tea, dates, club = catalog.items
    assert add_to_cart(tea) == (
        '<button type="button" class="add-to-cart" data-add-to-cart="tea" data-name="Matcha &lt;tin&gt;" '
        'data-unit-amount="1500" data-currency="jpy" data-currency-exponent="0" hidden>Add to cart</button>')
    assert 'data-unit-amount="2250" data-currency="kwd" data-currency-exponent="3"' in add_to_cart(dates)
    page = render_page(catalog)
    assert page.count("data-add-to-cart=") == 2 and 'data-add-to-cart="club"' not in page  # one-time items only
    assert "data-add-to-cart" in snippet(tea) and "data-add-to-cart" not in snippet(club)


def test_the_demo_page_offers_add_to_cart_beside_buy_now_for_one_time_items():
    page = (ROOT / "public" / "index.html").read_text()
    for price, amount in (("price_tshirt", 1500), ("price_poster", 2500)):
        assert re.search(rf'data-price-id="{price}"[^>]*>Buy now</button>\s*<button type="button" class="add-to-cart" '
                         rf'data-add-to-cart="{price}" [^>]*data-unit-amount="{amount}"', page), price
    assert 'data-add-to-cart="price_membership"' not in page
    assert '<script src="/js/cart.js" defer></script>' in page and "<div data-cart></div>" in page
