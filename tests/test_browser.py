"""The pages in real headless Chromium, against the real app, the Stripe stand-in and DynamoDB."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from playwright.sync_api import expect

from shared.cli.serve import PUBLIC_DIR
from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.headers import page_headers
from shared.web.services import Services
from tests.conftest import BARE_OPTIONS, SECRET_KEY, WEBHOOK_SECRET
from tests.livesrv import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser
PUBLISHABLE_KEY = "pk_test_51PublishableKeyForTests"

# Stripe.js cannot be fetched here; this stands in for it at its real address, and records how our
# script drives it: the key it was given, and the client secret of the session it mounts. A test that
# sets window.__holdCheckout (a promise) keeps the form from arriving until it resolves.
FAKE_STRIPE_JS = """
window.Stripe = function (key) {
  window.__stripeKey = key;
  return {
    createEmbeddedCheckoutPage: async function (options) {
      const secret = await options.fetchClientSecret();
      if (window.__holdCheckout) await window.__holdCheckout;
      return {
        mount: function (el) {
          const box = typeof el === 'string' ? document.querySelector(el) : el;
          box.setAttribute('data-client-secret', secret);
          box.textContent = 'Stripe embedded checkout';
        },
        destroy: function () {}
      };
    }
  };
};
"""


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: CI must install Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_prices(standin):
    # The demo page names these IDs literally, as a seller's page would name theirs.
    if "price_tshirt" not in standin.prices:
        standin.add_price(id="price_tshirt", unit_amount=1500, product_name="T-shirt")
        standin.add_price(id="price_poster", unit_amount=2500, product_name="Poster")
        standin.add_price(id="price_membership", unit_amount=500, product_name="Membership",
                          recurring={"interval": "month"})


@pytest.fixture(scope="module")
def site(standin, demo_prices, local_dynamo):
    from shared.store.dynamo import DynamoStore

    store = DynamoStore("browser-tests", endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    server = LiveServer()
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": standin.url,
           "SITE_URL": server.url, "ALLOWED_PRICES": "price_tshirt,price_poster,price_membership",
           "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY, "RATE_LIMIT": "off", "CHECKOUT_CONFIG": BARE_OPTIONS}
    server.start(create_app(Services(Settings.from_env(env), store=store, fulfiller=Fulfiller([])),
                            static_dir=str(PUBLIC_DIR)))
    yield server
    server.stop()


def new_page(browser, **context):
    page = browser.new_context(**context).new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.violations = violations  # type: ignore[attr-defined]
    return page


def add_button(page, label: str, attributes: dict[str, str]) -> None:
    """A button the seller added after the page loaded, bound through the script's public API."""
    page.evaluate("""([label, attributes]) => {
        const b = document.createElement('button');
        b.textContent = label;
        Object.keys(attributes).forEach(name => b.setAttribute(name, attributes[name]));
        document.querySelector('main').appendChild(b);
        window.StaticCheckout.bind(b);
    }""", [label, attributes])


def test_buy_button_lands_on_stripe_checkout(browser, site, standin):
    page = new_page(browser)
    response = page.goto(site.url + "/")
    for name, value in page_headers(standin.url).items():
        assert response.headers[name.lower()] == value
    page.fill("form:has([data-price-id=price_tshirt]) input[name=quantity]", "2")
    page.click("button[data-price-id=price_tshirt]")
    page.wait_for_url(f"{standin.url}/c/pay/cs_test_*")
    assert page.locator("#standin-checkout").is_visible()
    session_id = page.url.rsplit("/", 1)[1]
    assert standin.sessions[session_id]["amount_total"] == 3000
    assert page.violations == []


def test_buy_works_with_javascript_off(browser, site, standin):
    page = new_page(browser, java_script_enabled=False)
    page.goto(site.url + "/")
    page.click("button[data-price-id=price_membership]")
    page.wait_for_url(f"{standin.url}/c/pay/cs_test_*")
    assert standin.sessions[page.url.rsplit("/", 1)[1]]["mode"] == "subscription"


def test_a_refused_purchase_shows_the_error_next_to_the_button(browser, site):
    page = new_page(browser)
    page.goto(site.url + "/")
    add_button(page, "Buy the secret thing", {"data-price-id": "price_not_listed"})
    page.click("button[data-price-id=price_not_listed]")
    message = page.locator("button[data-price-id=price_not_listed] + .stripe-checkout-error")
    message.wait_for()
    assert "not for sale" in message.text_content()
    assert page.is_enabled("button[data-price-id=price_not_listed]")
    assert page.url == site.url + "/"


def test_embedded_checkout_mounts_stripes_form_in_the_page(browser, site, standin):
    page = new_page(browser)
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=FAKE_STRIPE_JS))
    page.goto(site.url + "/")
    page.click("button[data-price-id=price_poster]")
    box = page.locator("#embedded-checkout[data-client-secret]")
    box.wait_for()
    secret = box.get_attribute("data-client-secret")
    session_id = secret.split("_secret_")[0]
    assert standin.sessions[session_id]["ui_mode"] == "embedded_page"
    assert standin.sessions[session_id]["return_url"].startswith(site.url + "/success.html?session_id=")
    assert page.evaluate("window.__stripeKey") == PUBLISHABLE_KEY
    assert page.url == site.url + "/"  # the buyer stays on the seller's page
    assert page.violations == []


def with_fake_stripe_js(page):
    page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
        status=200, content_type="application/javascript", body=FAKE_STRIPE_JS))
    return page


def test_embedded_button_says_it_is_loading_checkout_not_redirecting(browser, site):
    page = with_fake_stripe_js(new_page(browser))
    page.goto(site.url + "/")
    # Not the promise itself as the expression's value: evaluate() would wait for it.
    page.evaluate("() => { window.__holdCheckout = new Promise(r => { window.__releaseCheckout = r; }); }")
    button = page.locator("button[data-price-id=price_poster]")
    button.click()
    expect(button).to_have_text("Loading checkout\u2026")  # it stays so until Stripe's form is let through
    assert button.get_attribute("aria-busy") == "true" and button.is_disabled()
    page.evaluate("() => window.__releaseCheckout()")
    page.locator("#embedded-checkout[data-client-secret]").wait_for()
    expect(button).to_be_enabled()
    assert button.text_content() == "Buy now" and button.get_attribute("aria-busy") is None


def test_hosted_button_says_redirecting(browser, site, standin):
    page = new_page(browser)
    page.goto(site.url + "/")
    held = []
    page.route("**/api/create-checkout-session", lambda route: held.append(route))  # held until we let it go
    button = page.locator("button[data-price-id=price_tshirt]")
    button.click()
    expect(button).to_have_text("Redirecting\u2026")
    assert button.is_disabled()
    for _ in range(100):  # the label changes before the request leaves; on a busy machine the route sees it later
        if held:
            break
        page.wait_for_timeout(50)
    held[0].continue_()
    page.wait_for_url(f"{standin.url}/c/pay/cs_test_*")


def test_embedded_checkout_takes_the_focus_when_it_mounts(browser, site):
    page = with_fake_stripe_js(new_page(browser))
    page.goto(site.url + "/")
    page.focus("button[data-price-id=price_poster]")
    page.keyboard.press("Enter")
    page.locator("#embedded-checkout[data-client-secret]").wait_for()
    expect(page.locator("#embedded-checkout")).to_be_focused()
    assert page.get_attribute("#embedded-checkout", "tabindex") == "-1"  # focusable by script, not a tab stop
    assert page.get_attribute("#embedded-checkout", "aria-label") == "Checkout"


def test_embedded_checkout_in_a_box_of_its_own_is_named_and_takes_the_focus(browser, site):
    page = with_fake_stripe_js(new_page(browser))
    page.goto(site.url + "/")
    # A seller's embedded button with no container named: the script adds one after the button.
    add_button(page, "Buy a poster here", {"data-price-id": "price_poster", "data-ui-mode": "embedded",
                                           "id": "own-box"})
    page.click("#own-box")
    box = page.locator("#stripe-embedded-checkout[data-client-secret]")
    box.wait_for()
    expect(box).to_be_focused()
    assert box.get_attribute("role") == "region" and box.get_attribute("aria-label") == "Checkout"
    assert box.get_attribute("tabindex") == "-1"


def test_a_refused_purchase_gives_the_focus_back_to_the_button(browser, site):
    page = new_page(browser)
    page.goto(site.url + "/")
    add_button(page, "Buy the secret thing", {"data-price-id": "price_not_listed"})
    page.focus("button[data-price-id=price_not_listed]")
    page.keyboard.press("Enter")
    page.locator("button[data-price-id=price_not_listed] + .stripe-checkout-error").wait_for()
    expect(page.locator("button[data-price-id=price_not_listed]")).to_be_focused()
    # Enter again retries from where the buyer is, and the message stays tied to the button.
    described = page.get_attribute("button[data-price-id=price_not_listed]", "aria-describedby")
    assert described and page.locator(f"#{described}").text_content()


def test_success_page_scales_amounts_by_the_exponent_the_api_gives(browser, site, standin):
    import stripe

    # A zero-decimal currency: 1000 in JPY's minor unit is ¥1,000, not ¥10.00.
    price = standin.add_price(unit_amount=1000, currency="jpy", product_name="Tenugui")
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price["id"], "quantity": 1}],
        "success_url": site.url + "/success.html?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": site.url + "/cancel.html"})
    standin.complete_session(session.id, payment_status="paid", email="yuki@example.com")
    page = new_page(browser)
    page.goto(f"{site.url}/success.html?session_id={session.id}")
    page.wait_for_selector("#order[aria-busy=false]")
    assert page.text_content("#order-total") == "\u00a51,000"
    assert page.locator("#order-items tr td").all_text_contents()[2] == "\u00a51,000"


def test_subscription_success_page_opens_the_customer_portal(browser, site, standin):
    import httpx

    session_id = httpx.post(site.url + "/api/create-checkout-session",
                            json={"priceId": "price_membership"}).json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="sub@example.com")
    page = new_page(browser, java_script_enabled=True)
    page.goto(f"{site.url}/success.html?session_id={session_id}")
    page.wait_for_selector("#order[aria-busy=false]")
    page.click("#manage-subscription button")
    page.wait_for_url(f"{standin.url}/p/session/*")


def test_success_page_shows_the_recorded_order(browser, site, standin):
    import httpx

    created = httpx.post(site.url + "/api/create-checkout-session", json={"priceId": "price_tshirt", "quantity": 2})
    session_id = created.json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="grace@example.com")
    page = new_page(browser)
    response = page.goto(f"{site.url}/success.html?session_id={session_id}")
    assert response.headers["content-security-policy"] == page_headers(standin.url)["Content-Security-Policy"]
    page.wait_for_selector("#order[aria-busy=false]")
    assert page.text_content("#order-heading") == "Thank you!"
    assert page.get_attribute("#order-status", "data-status") == "paid"
    assert page.get_attribute("#order-status", "data-fulfilled") == "true"
    assert page.text_content("#order-email") == "grace@example.com"
    assert page.text_content("#order-total") == "$30.00"
    cells = page.locator("#order-items tr td").all_text_contents()
    assert cells[:2] == ["T-shirt", "2"] and cells[2] == "$30.00"
    assert page.violations == []


def test_success_page_shows_the_breakdown_and_the_shipping_address(browser, site, standin, monkeypatch):
    import httpx

    from tests.fakes import sell_in_standin

    session_id = httpx.post(site.url + "/api/create-checkout-session",
                            json={"priceId": "price_tshirt", "quantity": 2}).json()["id"]
    sell_in_standin(standin, session_id, monkeypatch)  # PROMO10, standard shipping to Dublin, 8 % tax
    page = new_page(browser)
    page.goto(f"{site.url}/success.html?session_id={session_id}")
    page.wait_for_selector("#order[aria-busy=false]")
    assert page.locator("#order-items tr td").all_text_contents() == ["T-shirt", "2", "$30.00"]
    shown = {name: (page.text_content(f"#order-{name}-row th"), page.text_content(f"#order-{name}"))
             for name in ("subtotal", "discount", "shipping", "tax")}
    assert shown == {"subtotal": ("Subtotal", "$30.00"), "discount": ("Discount (PROMO10)", "-$3.00"),
                     "shipping": ("Shipping (Standard)", "$5.00"), "tax": ("Tax", "$2.56")}
    assert page.text_content("#order-total") == "$34.56"  # 30.00 − 3.00 + 5.00 + 2.56
    assert page.locator("#order-address span").all_text_contents() == [
        "Ada Lovelace", "12 Harbour Road", "Flat 3", "D02 XY45 Dublin", "Ireland"]
    assert page.is_visible("#order-ship-to") and page.violations == []


def test_success_page_of_a_plain_sale_shows_no_breakdown_rows(browser, site, standin):
    import httpx

    session_id = httpx.post(site.url + "/api/create-checkout-session", json={"priceId": "price_poster"}).json()["id"]
    standin.complete_session(session_id, payment_status="paid", email="plain@example.com")
    page = new_page(browser)
    page.goto(f"{site.url}/success.html?session_id={session_id}")
    page.wait_for_selector("#order[aria-busy=false]")
    assert page.text_content("#order-total") == "$25.00"
    for name in ("subtotal", "discount", "shipping", "tax"):
        assert not page.is_visible(f"#order-{name}-row")
    assert not page.is_visible("#order-ship-to")


def test_cancel_page_leads_back_to_the_store(browser, site):
    page = new_page(browser)
    page.goto(site.url + "/cancel.html")
    page.click("a[href='/']")
    page.wait_for_url(site.url + "/")


STRIPE_TIMEOUT_BODY = ('{"error": {"code": "stripe_error", "message": "Stripe could not be reached in time; '
                       'please try again."}}')


def record_keys(page, *, fail_first: int = 0) -> list[str]:
    """The Idempotency-Key of each create-session request; the first `fail_first` answer 502 as a timeout would."""
    keys: list[str] = []

    def handle(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) <= fail_first:
            route.fulfill(status=502, content_type="application/json", body=STRIPE_TIMEOUT_BODY)
        else:
            route.continue_()

    page.route("**/api/create-checkout-session", handle)
    return keys


def test_a_retry_keeps_the_attempts_key_and_the_next_purchase_gets_a_new_one(browser, site, standin):
    page = with_fake_stripe_js(new_page(browser))
    page.goto(site.url + "/")
    keys = record_keys(page, fail_first=1)
    button = page.locator("button[data-price-id=price_poster]")
    box = page.locator("#embedded-checkout")
    button.click()  # Stripe timed out: Stripe may have made the session, so a retry must name it again
    page.locator("button[data-price-id=price_poster] + .stripe-checkout-error").wait_for()
    button.click()
    page.locator("#embedded-checkout[data-client-secret]").wait_for()
    first = box.get_attribute("data-client-secret")
    button.click()  # the buyer finished (or left) that checkout and buys another poster: a new purchase
    expect(box).not_to_have_attribute("data-client-secret", first)
    second = box.get_attribute("data-client-secret")
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2] and all(keys)
    assert first.split("_secret_")[0] != second.split("_secret_")[0]  # its own session, not the old one replayed


def test_another_order_after_a_failure_is_a_new_attempt(browser, site):
    page = new_page(browser)
    page.goto(site.url + "/")
    keys = record_keys(page, fail_first=2)
    quantity = "form:has([data-price-id=price_tshirt]) input[name=quantity]"
    button = page.locator("button[data-price-id=price_tshirt]")
    error_box = page.locator("button[data-price-id=price_tshirt] + .stripe-checkout-error")
    button.click()
    expect(error_box).to_be_visible()
    page.fill(quantity, "3")  # not a retry: the buyer changed the order
    button.click()
    expect(error_box).to_be_visible()
    expect(button).to_be_enabled()
    assert len(keys) == 2 and keys[0] != keys[1]


@pytest.fixture
def shop(standin, demo_prices, local_dynamo):
    """A site of its own (its own table, and its own instance's few seconds of cached stock)."""
    import uuid

    from shared.store.dynamo import DynamoStore

    store = DynamoStore(f"browser-stock-{uuid.uuid4().hex[:8]}", endpoint_url=local_dynamo.url, region="us-east-1")
    store.create_table()
    server = LiveServer()
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url, "SITE_URL": server.url,
           "ALLOWED_PRICES": "price_tshirt,price_poster,price_membership", "RATE_LIMIT": "off"}
    server.start(create_app(Services(Settings.from_env(env), store=store, fulfiller=Fulfiller([])),
                            static_dir=str(PUBLIC_DIR)))
    server.store = store  # type: ignore[attr-defined]  # the test sets stock in it
    yield server
    server.stop()


def test_the_page_shows_how_many_are_left_caps_the_quantity_and_turns_sold_out(browser, shop):
    from shared.checkout.stock import PAGE_TTL_SECONDS
    from shared.orders.stock import set_available

    site = shop
    form = "form:has([data-price-id=price_tshirt])"
    set_available(site.store, "price_tshirt", 2)
    page = new_page(browser)
    page.goto(site.url + "/")
    note = page.locator(f"{form} .stock-note")
    expect(note).to_have_text("Only 2 left")
    assert page.get_attribute(f"{form} input[name=quantity]", "max") == "2"
    expect(page.locator("button[data-price-id=price_poster]")).to_have_text("Buy now")  # unlimited: as it was
    # Someone else buys the last two while this page is open: its Buy is refused, and the page says so.
    set_available(site.store, "price_tshirt", 0)
    page.click("button[data-price-id=price_tshirt]")
    button = page.locator("button[data-price-id=price_tshirt]")
    expect(button).to_have_text("Sold out")
    expect(button).to_be_disabled()
    expect(page.locator("button[data-price-id=price_tshirt] + .stripe-checkout-error")).to_have_text("Sold out.")
    expect(note).to_be_hidden()
    # A fresh visit, once what this instance read is over 5 s old, shows it sold out from the start.
    time.sleep(PAGE_TTL_SECONDS + 0.2)
    again = new_page(browser)
    again.goto(site.url + "/")
    expect(again.locator("button[data-price-id=price_tshirt]")).to_have_text("Sold out")
    assert page.violations == [] and again.violations == []


def test_the_cart_caps_a_line_at_what_is_left_and_learns_from_a_refused_checkout(browser, shop):
    from shared.orders.stock import set_available

    form = "form:has([data-price-id=price_tshirt])"
    set_available(shop.store, "price_tshirt", 2)
    page = new_page(browser)
    page.goto(shop.url + "/")
    expect(page.locator(f"{form} .stock-note")).to_have_text("Only 2 left")
    page.fill(f"{form} input[name=quantity]", "2")
    page.click(f"{form} [data-add-to-cart]")
    page.click(".cart-toggle")
    quantity = page.locator(".cart-line input")
    expect(quantity).to_have_value("2")
    assert quantity.get_attribute("max") == "2"
    expect(page.get_by_role("button", name="One more T-shirt")).to_be_disabled()
    # One sells elsewhere: the checkout is refused, and the page and the cart both learn what is left.
    set_available(shop.store, "price_tshirt", 1)
    page.click(".cart-checkout")
    expect(page.locator(f"{form} .stock-note")).to_have_text("Only 1 left")
    expect(quantity).to_have_attribute("max", "1")
    expect(quantity).to_be_focused()  # the line the API refused
    # None left: Buy now and Add to cart both say so.
    set_available(shop.store, "price_tshirt", 0)
    page.click(".cart-checkout")
    for button in (f"{form} .stripe-checkout-btn", f"{form} [data-add-to-cart]"):
        expect(page.locator(button)).to_have_text("Sold out")
        expect(page.locator(button)).to_be_disabled()
    assert page.violations == []
