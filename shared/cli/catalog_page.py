"""The catalog as HTML: buy-button snippets, and the store page (`public/index.html`). Pure.

Every button names its price by lookup key, so a price replaced by `catalog sync` needs no edit of
the page. The forms post without JavaScript; the buy script takes over when it runs. A one-time item
also gets an "Add to cart" button carrying its price for the cart script to show (hidden until that
script runs; the server stays the authority on prices). All text from the catalog is escaped.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape

from ..money import exponent
from ..web.routes import CREATE_CHECKOUT_SESSION as ENDPOINT
from .catalog import Catalog, Item

CONTAINER = "embedded-checkout"  # where the page mounts embedded Checkout
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩"}


def display_price(item: Item) -> str:
    """`$15.00`, `¥1,500`, `12.50 CHF`: the amount as a buyer reads it."""
    places = exponent(item.currency)
    number = f"{Decimal(item.unit_amount).scaleb(-places):,.{places}f}"
    symbol = _SYMBOLS.get(item.currency)
    return f"{symbol}{number}" if symbol else f"{number} {item.currency.upper()}"


def price_unit(item: Item) -> str:
    if item.interval is None:
        return "each"
    unit = f"/ {item.interval}" if item.interval_count == 1 else f"/ {item.interval_count} {item.interval}s"
    return f"{unit}, {item.trial_days} days free" if item.trial_days else unit


def allowed_prices_line(catalog: Catalog) -> str:
    return "ALLOWED_PRICES=" + ",".join(item.lookup_key for item in catalog.items)


def snippet(item: Item) -> str:
    """The button for one item, to paste into any page (the script tags go in once per page)."""
    key = escape(item.lookup_key)
    lines = [f"<!-- {escape(item.name)}: {escape(display_price(item))} {escape(price_unit(item))} -->",
             f'<form method="post" action="{ENDPOINT}">',
             f'  <input type="hidden" name="priceId" value="{key}">']
    if item.interval is None:
        lines.append('  <input type="number" name="quantity" min="1" max="99" value="1">')
    # An embedded button opens Checkout in a box the script adds after the form.
    embedded = ' data-ui-mode="embedded"' if item.embedded else ""
    lines.append(f'  <button type="submit" class="stripe-checkout-btn" data-price-id="{key}"{embedded}>{_verb(item)}'
                 "</button>")
    if item.interval is None:
        lines.append(f"  {add_to_cart(item)}")
    lines.append("</form>")
    return "\n".join(lines)


def add_to_cart(item: Item, described_by: str | None = None) -> str:
    """The cart script's button for a one-time item: the price as the cart shows it, in Stripe's minor units."""
    described = f' aria-describedby="{described_by}"' if described_by else ""
    return (f'<button type="button" class="add-to-cart" data-add-to-cart="{escape(item.lookup_key)}" '
            f'data-name="{escape(item.name)}" data-unit-amount="{item.unit_amount}" '
            f'data-currency="{escape(item.currency)}" data-currency-exponent="{exponent(item.currency)}"{described} '
            "hidden>Add to cart</button>")


def render_page(catalog: Catalog) -> str:
    """The whole store page, with the structure and classes of the demo `public/index.html`."""
    ids = _card_ids(catalog.items)
    cards = "\n".join(_card(item, ids[item.lookup_key]) for item in catalog.items)
    lead = f'\n    <p class="lead">{escape(catalog.lead)}</p>' if catalog.lead else ""
    title = escape(catalog.title)
    container = "" if not any(item.embedded for item in catalog.items) else f"""

    <!-- Embedded Checkout mounts here when a button with data-ui-mode="embedded" is pressed. -->
    <section id="{CONTAINER}" class="stripe-embedded-checkout" aria-label="Checkout"></section>"""
    # Limited items say how many are left, and "Sold out" when none are.
    stock = "" if all(item.stock is None for item in catalog.items) else \
        '\n  <script src="/js/stock.js" defer></script>'
    return _PAGE.format(title=title, lead=lead, cards=cards, container=container, stock=stock)


def _card(item: Item, card_id: str) -> str:
    key = escape(item.lookup_key)
    art = f" card-art--{item.art}" if item.art else ""
    embedded = f' data-ui-mode="embedded" data-checkout-container="#{CONTAINER}"' if item.embedded else ""
    desc = f'\n          <p class="card-desc">{escape(item.description)}</p>' if item.description else ""
    quantity = "" if item.interval is not None else """
            <label class="qty">
              <span class="qty-label">Quantity</span>
              <input type="number" name="quantity" min="1" max="99" value="1" inputmode="numeric" required>
            </label>"""
    cart = "" if item.interval is not None else f"\n            {add_to_cart(item, card_id)}"
    return f"""
      <article class="card" aria-labelledby="{card_id}">
        <div class="card-art{art}" aria-hidden="true"></div>
        <div class="card-body">
          <h2 id="{card_id}" class="card-title">{escape(item.name)}</h2>{desc}
          <p class="price"><span class="price-amount">{escape(display_price(item))}</span> \
<span class="price-unit">{escape(price_unit(item))}</span></p>
          <form class="buy-form" method="post" action="{ENDPOINT}">
            <input type="hidden" name="priceId" value="{key}">{quantity}
            <button type="submit" class="stripe-checkout-btn" data-price-id="{key}"{embedded} \
aria-describedby="{card_id}">{_verb(item)}</button>{cart}
          </form>
        </div>
      </article>"""


def _card_ids(items: tuple[Item, ...]) -> dict[str, str]:
    """An HTML id per item, from its lookup key, unique on the page."""
    ids: dict[str, str] = {}
    for item in items:
        base = "p-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", item.lookup_key).strip("-") or "item")
        candidate, n = base, 2
        while candidate in ids.values():
            candidate, n = f"{base}-{n}", n + 1
        ids[item.lookup_key] = candidate
    return ids


def _verb(item: Item) -> str:
    return "Buy now" if item.interval is None else "Subscribe"


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <meta name="color-scheme" content="light dark">
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/css/site.css">
  <script src="/js/stripe-checkout.js" defer></script>
  <script src="/js/cart.js" defer></script>{stock}
</head>
<body>
  <a class="skip-link" href="#main">Skip to products</a>

  <header class="site-header">
    <div class="wrap">
      <p class="brand"><a href="/">{title}</a></p>
      <div data-cart></div>
    </div>
  </header>

  <main id="main" class="wrap">
    <h1>{title}</h1>{lead}

    <!-- Made by `python -m shared catalog render` from the catalog file: edit that, not this. -->
    <section class="products" aria-label="Products">
{cards}

    </section>{container}
  </main>

  <footer class="site-footer">
    <div class="wrap">
      <p>Payments are handled by Stripe. This page stores no card data and loads nothing from other sites.</p>
    </div>
  </footer>
</body>
</html>
"""
