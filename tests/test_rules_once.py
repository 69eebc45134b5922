"""Each rule is written once and imported (the key shapes and modes, the placeholder check, the price
reference, the currency exponents, the routes); the places that must spell one again for another reader
(the OpenAPI document, the pages) are checked against the one definition here."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from shared.checkout.sessions import parse_purchase, summary
from shared.cli.catalog import CatalogError, parse
from shared.cli.doctor import check_key, check_webhook_secrets, key_label
from shared.cli.serve import explain_key
from shared.errors import DomainError, Misconfigured
from shared.settings import Secret, Settings
from shared.stripe_ids import PRICE_REF, SESSION_ID, is_placeholder, key_mode
from shared.web.app import create_app
from shared.web.routes import API_ROUTES
from tests.fakes import make_session

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "public" / "openapi.json").read_text(encoding="utf-8"))
# A key as the Dashboard gives one, whose random part happens to hold "xxxx".
REAL_LOOKING = "sk_test_51HqLyjWxxxxQ7m2Zk9aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX4yZ5"


# --- key modes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,mode", [
    ("sk_test_abcdef123456", "test"), ("sk_live_abcdef123456", "live"), ("rk_live_abcdef123456", "live"),
    ("pk_test_abcdef123456", "test"), ("pk_live_abcdef123456", "live"),
    ("whsec_abcdef", None), ("sk_abcdef", None), ("", None), ("xsk_live_abcdef", None),
])
def test_key_mode_is_read_from_the_prefix(key, mode):
    assert key_mode(key) == mode


def test_settings_doctor_and_health_tell_the_mode_the_same_way():
    live = Settings.from_env({"STRIPE_SECRET_KEY": "rk_live_abcdef123456"})
    assert live.stripe_mode == "live" and Settings.from_env({}).stripe_mode is None
    assert check_key(Secret("rk_live_abcdef123456"), None).message.startswith("live mode restricted key rk_live_")
    assert key_label(Secret("sk_live_abcdef123456")) == "sk_live_…3456"

    from starlette.testclient import TestClient

    from shared.web.services import Services

    health = TestClient(create_app(Services(live))).get("/api/health").json()
    assert health["stripe_mode"] == "live"


def test_publishable_key_of_the_other_mode_is_refused():
    with pytest.raises(Misconfigured, match="different modes"):
        Settings.from_env({"STRIPE_SECRET_KEY": "sk_live_abcdef123456", "STRIPE_PUBLISHABLE_KEY": "pk_test_abcdef"})
    Settings.from_env({"STRIPE_SECRET_KEY": "rk_test_abcdef123456", "STRIPE_PUBLISHABLE_KEY": "pk_test_abcdef"})


def test_a_malformed_secret_key_beside_a_publishable_key_is_a_setting_problem_not_a_crash():
    # The mode comparison split the keys on "_" and took the second part: an IndexError for "abcdef".
    with pytest.raises(Misconfigured) as raised:
        Settings.from_env({"STRIPE_SECRET_KEY": "abcdef", "STRIPE_PUBLISHABLE_KEY": "pk_test_abcdef"})
    assert "STRIPE_SECRET_KEY is not a Stripe secret key" in raised.value.message
    assert "different modes" not in raised.value.message


# --- placeholder keys ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["sk_test_replace_me", "whsec_replace_me", "pk_test_replace_me",
                                   "sk_test_your_key_here", "sk_test_PLACEHOLDER", "sk_test_xxxxxxxxxxxx",
                                   "rk_live_XXXXXX"])
def test_example_values_are_placeholders(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", [REAL_LOOKING, "sk_test_abcdef123456", "whsec_abcdefxxxx0123", "rk_live_x1y2z3"])
def test_real_keys_are_not_placeholders_even_with_xxxx_in_them(value):
    assert not is_placeholder(value)


def test_doctor_and_serve_agree_on_what_is_a_placeholder():
    for value, placeholder in (("sk_test_replace_me", True), (REAL_LOOKING, False)):
        assert (check_key(Secret(value), None).status == "fail") is placeholder
        out = io.StringIO()
        explain_key(Settings.from_env({"STRIPE_SECRET_KEY": value, "STRIPE_WEBHOOK_SECRET": "whsec_abcdef"}), out)
        assert ("is a placeholder" in out.getvalue()) is placeholder
    assert check_webhook_secrets((Secret("whsec_replace_me"),)).status == "fail"
    assert check_webhook_secrets((Secret("whsec_abcdefxxxx0123"),)).status == "ok"


# --- the price reference -------------------------------------------------------------------------------

@pytest.mark.parametrize("ref,good", [
    ("price_1Abc", True), ("tshirt-2026", True), ("a.b:c_d-e", True), ("k" * 200, True),
    ("k" * 201, False), ("price one", False), ("tshirt\n", False), ("t-shirt/2026", False),
])
def test_settings_checkout_and_catalog_accept_the_same_price_references(ref, good):
    def allowed() -> bool:
        try:
            Settings.from_env({"ALLOWED_PRICES": ref})
        except Misconfigured:
            return False
        return True

    def buyable() -> bool:
        try:
            parse_purchase({"priceId": ref})
        except DomainError:
            return False
        return True

    def in_catalog() -> bool:
        try:
            parse({"items": [{"lookup_key": ref, "name": "A", "amount": 1, "currency": "usd"}]})
        except CatalogError:
            return False
        return True

    # ALLOWED_PRICES strips each entry, so it reads "tshirt\n" as "tshirt"; the other two must refuse it.
    expected = (True, False, False) if ref != ref.strip() else (good, good, good)
    assert (allowed(), buyable(), in_catalog()) == expected


def test_the_spec_spells_the_price_and_session_patterns_as_the_code_does():
    assert SPEC["components"]["schemas"]["PriceRef"]["pattern"] == PRICE_REF.pattern
    [param] = [p for p in SPEC["paths"]["/api/checkout-session"]["get"]["parameters"] if p.get("name") == "session_id"]
    assert param["schema"]["pattern"] == SESSION_ID.pattern


# --- currency exponents --------------------------------------------------------------------------------

@pytest.mark.parametrize("currency,exponent", [("usd", 2), ("jpy", 0), ("KWD", 3), ("isk", 2)])
def test_the_success_page_data_says_how_to_scale_each_amount(currency, exponent):
    body = summary(make_session(currency=currency), None)
    assert body["currency_exponent"] == exponent
    assert [item["currency_exponent"] for item in body["line_items"]] == [exponent]


def test_no_currency_no_exponent():
    body = summary(make_session(currency=None, line_items={"data": [{"description": "A", "quantity": 1}]}), None)
    assert body["currency_exponent"] is None and body["line_items"][0]["currency_exponent"] is None


def test_the_pages_keep_no_currency_table():
    for script in (ROOT / "public" / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"_DECIMAL|'jpy'|'kwd'", text), script.name  # the server's exponent, only


# --- routes ----------------------------------------------------------------------------------------------

def test_the_app_serves_exactly_the_listed_routes():
    assert {route.path for route in create_app().routes} == set(API_ROUTES)  # type: ignore[attr-defined]
    assert set(SPEC["paths"]) == set(API_ROUTES)


def test_every_api_path_the_pages_name_is_a_route():
    named = set()
    for page in [*(ROOT / "public").glob("*.html"), *(ROOT / "public" / "js").glob("*.js")]:
        named |= set(re.findall(r"/api/[a-z-]+", page.read_text(encoding="utf-8")))
    assert named and named <= set(API_ROUTES), sorted(named - set(API_ROUTES))
