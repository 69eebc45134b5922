"""The cart in headless Chromium, on a fresh `python -m shared serve --demo`: add two products, change a quantity,
reload (the cart is kept), remove one, check out with a promotion code and a shipping rate on the stand-in's
Checkout page, reach the success page (the cart is then empty). By keyboard, with what a screen reader hears;
in step across tabs; and with JavaScript off the single-item form still buys."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.demo.conftest import Demo
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser


def store(browser: Any, demo: Demo, **context: Any) -> Any:  # noqa: F811
    page = browser.new_context(**context).new_page()
    errors: list[str] = []  # the scripts' own: uncaught, or said on the console (not a missing favicon)
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(demo.url + "/")
    return page


def lines(page: Any) -> list[tuple[str, str]]:
    return [(li.locator(".cart-name").text_content(), li.locator("input").input_value())
            for li in page.locator(".cart-line").all()]


def test_a_cart_of_two_products_goes_through_checkout_to_the_success_page(browser, demo):  # noqa: F811
    page = store(browser, demo)
    page.fill("form:has([data-price-id=tshirt]) input[name=quantity]", "2")
    page.click("[data-add-to-cart=tshirt]")
    page.click("[data-add-to-cart=poster]")
    expect(page.locator(".cart-count")).to_have_text("3")
    expect(page.locator(".cart-toggle")).to_have_attribute("aria-label", "Cart, 3 items")
    expect(page.locator(".cart [role=status]")).to_have_text("Added 1 × Poster. Cart: 3 items.")

    page.click(".cart-toggle")
    expect(page.locator("#cart-panel")).to_be_visible()
    assert lines(page) == [("T-shirt", "2"), ("Poster", "1")]
    page.click("button[aria-label='One more Poster']")
    assert lines(page) == [("T-shirt", "2"), ("Poster", "2")]
    expect(page.locator(".cart-subtotal")).to_have_text("Subtotal $80.00")

    page.reload()
    expect(page.locator(".cart-count")).to_have_text("4")  # kept in localStorage
    page.click(".cart-toggle")
    assert lines(page) == [("T-shirt", "2"), ("Poster", "2")]
    page.click("button[aria-label='Remove T-shirt']")
    assert lines(page) == [("Poster", "2")]
    expect(page.locator(".cart-subtotal")).to_have_text("Subtotal $50.00")

    page.click(".cart-checkout")
    page.wait_for_url("**/c/pay/cs_test_*")
    session_id = page.url.rsplit("/", 1)[1]
    assert page.text_content("#standin-lines") == "Poster250.00 USD"
    expect(page.locator("#standin-shipping-rates")).to_contain_text("Express")
    page.fill("#standin-promotion-code", "PROMO10")
    page.click("#standin-apply")
    expect(page.locator("#standin-discount")).to_have_text("-5.00 USD")
    page.check("input[name=shipping_rate] >> nth=1")  # Express, 15.00
    page.click("#standin-apply")
    expect(page.locator("#standin-amount")).to_have_text("60.00 USD")  # 50.00 − 5.00 + 15.00
    page.click("#standin-pay")

    page.wait_for_url(f"{demo.url}/success.html?session_id={session_id}")
    page.wait_for_selector("#order-status[data-status=paid]", timeout=15_000)
    order = demo.wait_for_order(session_id, "paid")
    assert order["amount_total"] == 6000
    assert [(i["description"], i["quantity"]) for i in order["line_items"]] == [("Poster", 2)]
    page.goto(demo.url + "/")
    expect(page.locator(".cart-count")).to_have_text("0")  # that checkout bought the cart
    assert page.errors == []


def test_the_cart_by_keyboard_and_what_a_screen_reader_hears(browser, demo):  # noqa: F811
    page = store(browser, demo)
    page.focus("[data-add-to-cart=tshirt]")
    page.keyboard.press("Enter")
    status = page.locator(".cart [role=status]")
    expect(status).to_have_text("Added 1 × T-shirt. Cart: 1 item.")
    page.focus(".cart-toggle")
    page.keyboard.press("Enter")
    expect(page.locator("#cart-title")).to_be_focused()
    expect(page.locator(".cart-toggle")).to_have_attribute("aria-expanded", "true")
    more = page.locator("button[aria-label='One more T-shirt']")
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_be_focused()  # the list was drawn anew; the focus stays on the control used
    expect(status).to_have_text("T-shirt: 2. Cart: 2 items.")
    quantity = page.locator("input[aria-label='Quantity of T-shirt']")
    quantity.fill("5")
    quantity.press("Tab")
    expect(status).to_have_text("T-shirt: 5. Cart: 5 items.")
    page.locator("button[aria-label='Remove T-shirt']").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#cart-title")).to_be_focused()  # nothing left to focus in the list
    expect(page.locator(".cart-lines")).to_have_text("Your cart is empty.")
    page.keyboard.press("Escape")
    expect(page.locator("#cart-panel")).to_be_hidden()
    expect(page.locator(".cart-toggle")).to_be_focused()
    assert page.errors == []


def test_two_tabs_keep_one_cart(browser, demo):  # noqa: F811
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    first.goto(demo.url + "/")
    second.goto(demo.url + "/")
    first.click("[data-add-to-cart=poster]")
    expect(second.locator(".cart-count")).to_have_text("1")  # told by the storage event
    second.click(".cart-toggle")
    second.click("button[aria-label='Remove Poster']")
    expect(first.locator(".cart-count")).to_have_text("0")


def test_a_refused_line_is_named_and_focused(browser, demo):  # noqa: F811
    page = store(browser, demo)
    # A cart another page of the site wrote, whose second line this shop does not sell.
    page.evaluate("""() => localStorage.setItem('static-checkout-cart', JSON.stringify({items: [
        {priceId: 'tshirt', name: 'T-shirt', unitAmount: 1500, currency: 'USD', exponent: 2, quantity: 1},
        {priceId: 'mug', name: 'Mug', unitAmount: 900, currency: 'USD', exponent: 2, quantity: 1}]}))""")
    page.reload()
    page.click(".cart-toggle")
    page.click(".cart-checkout")
    expect(page.locator("#cart-panel [role=alert]")).to_contain_text("Line 2: Price 'mug' is not for sale here.")
    expect(page.locator("input[aria-label='Quantity of Mug']")).to_be_focused()
    assert page.url == demo.url + "/"


def test_without_javascript_there_is_no_cart_and_the_form_still_buys(browser, demo):  # noqa: F811
    page = store(browser, demo, java_script_enabled=False)
    expect(page.locator("[data-add-to-cart=tshirt]")).to_be_hidden()
    page.click("button[data-price-id=tshirt]")
    page.wait_for_url("**/c/pay/cs_test_*")
    session_id = page.url.rsplit("/", 1)[1]
    page.click("#standin-pay")
    page.wait_for_url(f"{demo.url}/success.html?session_id={session_id}")
    assert demo.wait_for_order(session_id, "paid")["amount_total"] == 1500 + 500
