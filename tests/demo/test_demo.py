"""`serve --demo` without a browser: what follows a checkout (`demo expire`, `demo refund`), what the
terminal shows, the pages, and where the demo refuses to run."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from shared.cli.serve import PUBLIC_DIR
from shared.demo import state
from shared.demo.environment import PLATFORMS, refusal
from shared.demo.pages import BANNER, DemoPages, with_banner
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.services import Services
from tests.demo.conftest import Demo, free_port, shared_command


def checkout(demo: Demo, price: str = "tshirt") -> tuple[str, str]:
    """A new hosted Checkout, as a form post makes one: (session id, its page)."""
    answer = httpx.post(demo.url + "/api/create-checkout-session", data={"priceId": price})
    assert answer.status_code == 303, answer.text
    url = answer.headers["location"]
    return url.rsplit("/", 1)[1], url


def test_demo_expire_sends_checkout_session_expired(demo):
    session_id, _ = checkout(demo)

    result = shared_command(demo.folder, "demo", "expire", session_id)

    assert result.returncode == 0, result.stderr
    assert f"Expired {session_id}" in result.stdout
    demo.wait_for_order(session_id, "expired")
    again = shared_command(demo.folder, "demo", "expire", session_id)
    assert again.returncode == 1 and 'status in ["open"]' in again.stderr


def test_demo_refund_in_part_then_the_rest(demo):
    session_id, page = checkout(demo)
    assert httpx.post(page, data={"action": "pay"}).status_code == 303
    demo.wait_for_order(session_id, "paid")

    part = shared_command(demo.folder, "demo", "refund", session_id, "--amount", "500")
    demo.wait_for_order(session_id, "partially_refunded")
    rest = shared_command(demo.folder, "demo", "refund", session_id)
    order = demo.wait_for_order(session_id, "refunded")

    # 15.00 for the T-shirt, 5.00 for the demo store's standard shipping (checkout.toml).
    assert part.returncode == 0 and "Refunded 5.00 USD" in part.stdout
    assert rest.returncode == 0 and "Refunded 15.00 USD" in rest.stdout
    assert order["refund"]["amount_refunded"] == 2000 and order["fulfilled"] is True
    too_much = shared_command(demo.folder, "demo", "refund", session_id, "--amount", "1")
    assert too_much.returncode == 1 and "greater than the unrefunded amount" in too_much.stderr


def test_a_membership_bought_in_the_demo_is_a_trialing_subscription_in_the_report(demo):
    session_id, page = checkout(demo, "membership")
    assert httpx.post(page, data={"action": "pay"}).status_code == 303

    order = demo.wait_for_order(session_id, "paid")
    deadline = time.monotonic() + 15
    while (figures := json.loads(shared_command(demo.folder, "report", "--json").stdout)["subscriptions"])[
            "trialing"] < 1:
        assert time.monotonic() < deadline, figures
        time.sleep(0.3)

    # The stand-in sent customer.subscription.created and the first ($0, trial) invoice.paid too.
    assert order["fulfilled"] is True and order["subscription"].startswith("sub_")
    assert figures["trialing"] == 1 and figures["mrr"] == {}
    listed = shared_command(demo.folder, "subscriptions", "list")
    assert listed.returncode == 0 and order["subscription"] in listed.stdout and "trialing" in listed.stdout


def test_the_other_commands_say_they_use_the_running_demo(demo):
    result = shared_command(demo.folder, "orders")

    assert result.returncode == 0
    assert f"Using the demo running at {demo.url}" in result.stderr


def test_the_terminal_shows_the_apps_lines_only(demo):
    session_id, page = checkout(demo)
    httpx.post(page, data={"action": "pay"})
    demo.wait_for_order(session_id, "paid")

    output = demo.output()

    assert f"Open {demo.url} and press Buy now" in output
    assert "webhook handled" in output  # the app's own line for each event
    assert not re.search(r'"(GET|POST) [^"]*HTTP/1\.1" \d{3}', output)  # no request log, of DynamoDB or others
    assert "sk_test_demo" not in output and "whsec_demo" not in output


def test_api_paths_answer_json_errors_as_deployed(demo):
    wrong_method = httpx.get(demo.url + "/api/create-checkout-session")
    unknown = httpx.get(demo.url + "/api/x")

    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


def test_without_a_running_demo_the_demo_commands_say_how_to_start_one(tmp_path):
    result = shared_command(tmp_path, "demo", "expire", "cs_test_123")

    assert result.returncode == 1 and "./dev serve --demo" in result.stderr


@pytest.mark.parametrize("setting", ["AWS_LAMBDA_FUNCTION_NAME", "VERCEL", "NETLIFY"])
def test_the_demo_refuses_to_run_on_a_platform(tmp_path, setting):
    result = shared_command(tmp_path, "serve", "--demo", "--port", str(free_port()), **{setting: "1"})

    assert result.returncode == 2
    assert f"({setting} is set)" in result.stderr and "never deployed" in result.stderr
    assert not (tmp_path / state.FILE).exists()


def test_the_demo_refuses_to_run_beside_a_live_key(tmp_path):
    (tmp_path / ".env").write_text("STRIPE_SECRET_KEY=sk_live_realKeyOfARealShop\n")

    result = shared_command(tmp_path, "serve", "--demo", "--port", str(free_port()))

    assert result.returncode == 2 and "STRIPE_SECRET_KEY is a live key" in result.stderr
    assert "realKeyOfARealShop" not in result.stderr + result.stdout


def test_refusal_names_each_platform_and_accepts_a_test_key():
    assert all(refusal({name: "x"}) for name in PLATFORMS)
    assert refusal({"STRIPE_SECRET_KEY": "rk_live_abcdef"})
    assert refusal({"STRIPE_SECRET_KEY": "sk_test_abcdef", "VERCEL": ""}) is None
    assert refusal({}) is None


def test_a_demo_that_is_gone_is_not_found(tmp_path):
    gone = state.Running(pid=2**22 + 12345, site_url="http://127.0.0.1:1", environment={"SITE_URL": "x"})
    state.write(tmp_path, gone)
    assert state.read(tmp_path) is None
    state.write(tmp_path, state.Running(os.getpid(), "http://127.0.0.1:1", {"SITE_URL": "x"}))
    assert state.read(tmp_path) == state.Running(os.getpid(), "http://127.0.0.1:1", {"SITE_URL": "x"})
    state.remove(tmp_path, os.getpid() + 1)  # another process's file stays
    assert (tmp_path / state.FILE).exists()
    state.remove(tmp_path, os.getpid())
    assert not (tmp_path / state.FILE).exists()


# --- pages ---


def app_client(demo_mode: bool) -> TestClient:
    env = {"STRIPE_SECRET_KEY": "sk_test_pages123", "ALLOWED_PRICES": "tshirt", "SITE_URL": "http://127.0.0.1:8000"}
    app: Any = create_app(Services(Settings.from_env(env)), static_dir=str(PUBLIC_DIR))
    if demo_mode:
        app = DemoPages(app, store_page="<html><head></head><body><h1>Catalog page</h1></body></html>",
                        checkout_origin="http://127.0.0.1:12111")
    return TestClient(app)


def test_the_banner_is_written_into_pages_in_demo_mode_only():
    demo, plain = app_client(True), app_client(False)
    for path in ("/", "/success.html", "/cancel.html", "/missing"):
        assert BANNER in demo.get(path).text, path
        assert "demo-banner" not in plain.get(path).text, path
    index = demo.get("/")
    assert "<h1>Catalog page</h1>" in index.text and "etag" not in index.headers
    assert index.headers["content-length"] == str(len(index.content))
    assert index.headers["content-security-policy"] == plain.get("/").headers["content-security-policy"]
    assert demo.get("/api/health").json() == plain.get("/api/health").json()
    assert demo.get("/css/site.css").content == (PUBLIC_DIR / "css" / "site.css").read_bytes()


def test_a_page_from_before_demo_mode_is_not_reused():
    demo = app_client(True)
    etag = app_client(False).get("/success.html").headers["etag"]

    answer = demo.get("/success.html", headers={"If-None-Match": etag})

    assert answer.status_code == 200 and BANNER in answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_the_stripe_js_stand_in_frames_the_stand_ins_checkout_page():
    script = app_client(True).get("/_demo/stripe.js")

    assert script.headers["content-type"].startswith("text/javascript")
    assert 'var CHECKOUT = "http://127.0.0.1:12111";' in script.text
    assert "createEmbeddedCheckoutPage" in script.text and "/c/embedded/" in script.text
    assert app_client(False).get("/_demo/stripe.js").status_code == 404


def test_the_banner_goes_first_in_the_body_and_the_assets_in_the_head():
    page = with_banner('<html><head><title>t</title></head><body class="x">hi</body></html>')

    assert page.startswith("<html><head><title>t</title><link rel=\"stylesheet\" href=\"/_demo/demo.css\">")
    assert f'<body class="x">{BANNER}hi</body>' in page
    assert with_banner("bare") == BANNER + "bare"


def test_the_demo_catalog_is_the_example_catalog():
    from shared.demo.serve import CATALOG

    assert CATALOG == Path(__file__).resolve().parents[2] / "catalog.example.yml" and CATALOG.is_file()
