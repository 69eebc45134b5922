"""The whole sale in headless Chromium, from a fresh `python -m shared serve --demo`: the store page,
the stand-in's Checkout page, a signed webhook, the order recorded once and fulfilled, the success page.
With JavaScript on (the buy script) and off (the form posts)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.demo.conftest import Demo
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.browser
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def open_store(browser: Any, demo: Demo, *, javascript: bool = True) -> Any:  # noqa: F811
    page = browser.new_context(java_script_enabled=javascript).new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.violations = violations
    page.goto(demo.url + "/")
    return page


def to_checkout(page: Any, price: str = "tshirt") -> str:
    """Press Buy now; on the stand-in's Checkout page, the session id."""
    page.click(f"button[data-price-id={price}]")
    page.wait_for_url("**/c/pay/cs_test_*")
    assert page.locator("#standin-banner").is_visible()
    return str(page.url.rsplit("/", 1)[1])


def success_page_shows(page: Any, status: str, timeout: float = 15_000) -> None:
    page.wait_for_selector(f"#order-status[data-status={status}]", timeout=timeout)
    page.wait_for_selector("#order[aria-busy=false]", timeout=timeout)


@JS
def test_pay_ends_paid_fulfilled_and_recorded_once(browser, demo, javascript):  # noqa: F811
    page = open_store(browser, demo, javascript=javascript)
    page.fill("form:has([data-price-id=tshirt]) input[name=quantity]", "2")
    session_id = to_checkout(page)
    # 2 × 15.00, and 5.00 for the demo store's standard shipping, the first rate its checkout.toml offers.
    assert page.text_content("#standin-amount") == "35.00 USD"
    page.fill("input[name=email]", "ada@example.com")

    page.click("#standin-pay")

    page.wait_for_url(f"{demo.url}/success.html?session_id={session_id}")
    assert page.locator("#demo-banner").is_visible()
    if javascript:
        success_page_shows(page, "paid")
        assert page.get_attribute("#order-status", "data-fulfilled") == "true"
        assert page.text_content("#order-total") == "$35.00"
    order = demo.wait_for_order(session_id, "paid")  # and only one of it
    assert (order["fulfilled"], order["customer_email"], order["amount_total"]) == (True, "ada@example.com", 3500)
    # The webhook was delivered, signed, and applied: the order's history holds the event.
    assert "checkout.session.completed" in [entry["type"] for entry in order["history"]]
    assert page.violations == []


@JS
def test_a_bank_transfer_ends_paid_after_the_delay(browser, demo, javascript):  # noqa: F811
    page = open_store(browser, demo, javascript=javascript)
    session_id = to_checkout(page)

    page.click("#standin-bank-transfer")

    page.wait_for_url(f"{demo.url}/success.html?session_id={session_id}")
    if javascript:
        success_page_shows(page, "paid")  # "processing" first, then the page checks again
    order = demo.wait_for_order(session_id, "paid")
    types = [entry["type"] for entry in order["history"]]
    assert "checkout.session.async_payment_succeeded" in types and order["fulfilled"] is True
    assert "awaiting_payment" in order["facts"]


@JS
def test_a_declined_card_stays_on_checkout_and_records_no_paid_order(browser, demo, javascript):  # noqa: F811
    page = open_store(browser, demo, javascript=javascript)
    session_id = to_checkout(page)

    page.click("#standin-decline")

    assert "Your card was declined" in page.text_content("#standin-message")
    assert "/c/pay/" in page.url
    assert page.text_content("#standin-status") == "open"
    assert [o for o in demo.order(session_id) if o["status"] == "paid"] == []


@JS
def test_cancel_goes_back_to_the_shop_and_records_no_paid_order(browser, demo, javascript):  # noqa: F811
    page = open_store(browser, demo, javascript=javascript)
    session_id = to_checkout(page)

    page.click("#standin-cancel")

    page.wait_for_url(f"{demo.url}/cancel.html")
    assert page.locator("#demo-banner").is_visible()
    assert [o for o in demo.order(session_id) if o["status"] == "paid"] == []


def test_embedded_checkout_mounts_the_stand_in_page_and_paying_leaves_the_frame(browser, demo):  # noqa: F811
    page = open_store(browser, demo)

    page.click("button[data-price-id=poster]")
    frame = page.frame_locator("#embedded-checkout iframe")
    frame.locator("#standin-pay").wait_for()
    assert page.url == demo.url + "/"  # the buyer is still on the seller's page
    frame.locator("#standin-pay").click()

    page.wait_for_url(f"{demo.url}/success.html?session_id=cs_test_*")
    success_page_shows(page, "paid")
    demo.wait_for_order(page.url.rsplit("=", 1)[1], "paid")
    assert page.violations == []


def test_every_page_carries_the_demo_banner(browser, demo):  # noqa: F811
    page = browser.new_context(java_script_enabled=False).new_page()
    for path in ("/", "/index.html", "/success.html", "/cancel.html", "/no-such-page"):
        page.goto(demo.url + path)
        assert page.text_content("#demo-banner").startswith("Demo — no real payments."), path
