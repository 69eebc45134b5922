"""`doctor`: pure checks that say what to fix, and whole runs against the stand-in, DynamoDB and a live doctor_site."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from shared.cli.doctor import (
    Check,
    Failed,
    HttpAnswer,
    check_key,
    check_prices,
    check_site,
    check_table,
    check_webhook_endpoint,
    check_webhook_secrets,
    report,
)
from shared.cli.main import main
from shared.events.decide import HANDLED_TYPES
from shared.orders.fulfilment import Fulfiller
from shared.settings import Secret, Settings
from shared.store.dynamo import DynamoStore
from shared.store.keys import table_definition
from shared.web.app import create_app
from shared.web.services import Services
from tests.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import MemoryStore
from tests.livesrv import LiveServer

ROOT = Path(__file__).resolve().parents[1]
KEY = Secret(SECRET_KEY)


# --- the checks, pure ---


def test_the_key_shows_its_mode_and_last_four_characters_only():
    assert check_key(KEY, None) == Check("Stripe key", "ok", "test mode key sk_test_…0123 works")
    failed = check_key(Secret("rk_live_abcdef987654"), Failed("Stripe rejected the secret key"))
    assert failed.status == "fail" and "live mode restricted key rk_live_…7654 does not work" in failed.message
    assert "not set" in check_key(None, None).message
    assert "placeholder" in check_key(Secret("sk_test_replace_me"), None).message


def test_webhook_secrets_are_counted_never_shown():
    assert check_webhook_secrets(()).status == "fail"
    assert check_webhook_secrets((Secret(WEBHOOK_SECRET),)).status == "ok"
    assert "rotating" in check_webhook_secrets((Secret("whsec_a1b2c3d4"), Secret("whsec_e5f6g7h8"))).message
    assert check_webhook_secrets(tuple(Secret(f"whsec_abcdef{i}") for i in range(3))).status == "warn"
    assert check_webhook_secrets((Secret("whsec_replace_me"),)).status == "fail"


def described(name: str) -> dict:
    definition = table_definition(name)
    return {"TableName": name, "TableStatus": "ACTIVE", "KeySchema": definition["KeySchema"],
            "GlobalSecondaryIndexes": definition["GlobalSecondaryIndexes"]}


TTL_ON = {"AttributeName": "expires_at", "TimeToLiveStatus": "ENABLED"}


def test_the_table_must_exist_match_create_table_and_expire_old_records():
    assert check_table("t", described("t"), TTL_ON).status == "ok"
    missing = check_table("t", None, None)
    assert missing.status == "fail" and "python -m shared create-table" in missing.message
    other = {**described("t"), "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
             "GlobalSecondaryIndexes": described("t")["GlobalSecondaryIndexes"][:1]}
    wrong = check_table("t", other, TTL_ON)
    assert wrong.status == "fail" and "key is not pk" in wrong.message and "index by_created" in wrong.message
    no_ttl = check_table("t", described("t"), {"TimeToLiveStatus": "DISABLED"})
    assert no_ttl.status == "fail" and "no TTL on expires_at" in no_ttl.message
    assert check_table("t", Failed("NoCredentialsError"), None).status == "fail"


def health(status: str = "ok", mode: str = "test", **extra) -> HttpAnswer:
    import json

    return HttpAnswer(200, json.dumps({"status": status, "stripe_mode": mode, **extra}).encode())


def test_the_site_must_answer_and_its_api_be_healthy_in_the_same_mode():
    doctor_site = "https://shop.example.com"
    assert check_site(doctor_site, HttpAnswer(200), health(), "test").status == "ok"
    assert check_site(None, None, None, "test").status == "fail"
    down = check_site(doctor_site, Failed("timed out"), None, "test")
    assert down.status == "fail" and "does not answer: timed out" in down.message
    assert check_site(doctor_site, HttpAnswer(404), None, "test").message.startswith(f"{doctor_site} answers 404")
    no_api = check_site(doctor_site, HttpAnswer(200), HttpAnswer(404), "test")
    assert no_api.status == "warn" and "/api/health does not (HTTP 404)" in no_api.message
    broken = check_site(doctor_site, HttpAnswer(200), health("misconfigured", problems=["SITE_URL is not set"]), "test")
    assert broken.status == "fail" and "SITE_URL is not set" in broken.message
    assert "live mode key" in check_site(doctor_site, HttpAnswer(200), health(mode="live"), "test").message


def test_allowed_prices_must_exist_and_be_active():
    found = {"price_a": {"active": True}, "tee": {"active": False}, "gone": None}
    result = check_prices(("price_a", "tee", "gone"), found)
    assert result.status == "fail"
    assert result.message.startswith("no such price in this account: gone; archived: tee")
    assert check_prices(("price_a",), {"price_a": {"active": True}}).status == "ok"
    assert check_prices(("*",), None).status == "warn"
    assert check_prices(None, None).status == "fail"
    assert check_prices(("x",), None).message.startswith("not checked")


URL = "https://shop.example.com/api/webhook"


def endpoint(events, status="enabled", url=URL, id="we_1") -> dict:
    return {"id": id, "url": url, "status": status, "enabled_events": list(events)}


def test_the_webhook_endpoint_must_point_here_be_enabled_and_send_every_type_we_handle():
    assert check_webhook_endpoint(URL, [endpoint(HANDLED_TYPES)]).status == "ok"
    assert "every event type" in check_webhook_endpoint(URL, [endpoint(["*"])]).message
    lacking = check_webhook_endpoint(URL, [endpoint(HANDLED_TYPES[:-2])])
    assert lacking.status == "fail"
    assert "lacks 2 event types: invoice.payment_action_required, invoice_payment.paid" in lacking.message
    assert "is disabled" in check_webhook_endpoint(URL, [endpoint(["*"], status="disabled")]).message
    nowhere = check_webhook_endpoint(URL, [endpoint(["*"], url="https://old.example.com/hook")])
    assert nowhere.status == "fail" and "none sends to" in nowhere.message
    assert "others go to https://old.example.com/hook" in nowhere.message
    assert "(none yet)" in check_webhook_endpoint(URL, []).message
    twice = check_webhook_endpoint(URL, [endpoint(["*"]), endpoint(["*"], id="we_2")])
    assert twice.status == "warn" and "each event arrives 2 times" in twice.message
    # The best of several is judged: a complete enabled one wins over a disabled one.
    assert check_webhook_endpoint(URL + "/", [endpoint([], status="disabled"), endpoint(["*"], id="we_2")]).status \
        == "ok"
    assert check_webhook_endpoint(None, []).status == "fail"
    assert check_webhook_endpoint(URL, Failed("no permission")).status == "warn"


def test_the_report_is_one_line_a_check_and_fails_only_on_a_fail():
    text, code = report([Check("a", "ok", "fine"), Check("b", "warn", "hmm")])
    assert code == 0 and text.splitlines()[0] == "ok    a                 fine" and "0 to fix, 1 to look at." in text
    assert report([Check("a", "fail", "broken")])[1] == 1
    assert report([Check("a", "ok", "fine")])[0].endswith("All good.")


# --- whole runs ---


@pytest.fixture
def doctor_site(standin):
    """The real app serving the pages, on a loopback port: what SITE_URL names."""
    server = LiveServer()
    settings = Settings(stripe_secret_key=KEY, webhook_secrets=(Secret(WEBHOOK_SECRET),), allowed_prices=("*",),
                        site_url=f"http://127.0.0.1:{server.port}", stripe_api_base=standin.url,
                        present=("STRIPE_SECRET_KEY",))
    app = create_app(Services(settings, store=MemoryStore(), fulfiller=Fulfiller([])), static_dir=str(ROOT / "public"))
    server.start(app)
    yield server
    server.stop()


@pytest.fixture
def doctor_env(monkeypatch, standin, local_dynamo, doctor_site, tmp_path):
    table = f"doctor-{uuid.uuid4().hex[:8]}"
    key = f"doc-{uuid.uuid4().hex[:8]}"
    price = standin.add_price(unit_amount=700, lookup_key=key)
    for name, value in {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url,
                        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "SITE_URL": doctor_site.url,
                        "ALLOWED_PRICES": f"{key},{price['id']}", "DYNAMODB_TABLE": table,
                        "DYNAMODB_ENDPOINT_URL": local_dynamo.url, "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return DynamoStore(table, endpoint_url=local_dynamo.url, region="us-east-1")


def lines(out: str) -> dict[str, str]:
    rows = [line.split(None, 1) for line in out.splitlines() if line.startswith(("ok ", "warn ", "fail "))]
    return {rest[:17].strip(): f"{status} {rest[17:].strip()}" for status, rest in rows}


def test_a_complete_setup_is_all_good(doctor_env, standin, doctor_site, capsys):
    doctor_env.create_table()
    standin.add_webhook_endpoint(url=f"{doctor_site.url}/api/webhook", enabled_events=list(HANDLED_TYPES))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    checks = lines(out)
    assert set(checks) == {"Stripe key", "webhook secret", "DynamoDB table", "site", "prices", "webhook endpoint",
                           "checkout options"}
    assert all(v.startswith("ok ") for v in checks.values()), out
    assert checks["Stripe key"] == "ok test mode key sk_test_…0123 works"
    # The repository's checkout.toml: the demo store's options.
    assert checks["checkout options"] == ("ok checkout.toml: allow_promotion_codes, phone_number_collection, "
                                          "shipping_address_collection, shipping_options")
    assert out.rstrip().endswith("All good.") and len(out.splitlines()) <= 10  # one screen


def test_a_broken_setup_names_each_thing_to_fix(doctor_env, standin, doctor_site, monkeypatch, capsys):
    price = standin.add_price(unit_amount=900, lookup_key=f"old-{uuid.uuid4().hex[:8]}", active=False)
    monkeypatch.setenv("ALLOWED_PRICES", f"{price['lookup_key']},price_doesnotexist")
    standin.add_webhook_endpoint(url=f"{doctor_site.url}/api/webhook", enabled_events=["checkout.session.completed"])
    assert main(["doctor"]) == 1  # no table either
    checks = lines(capsys.readouterr().out)
    assert checks["DynamoDB table"].startswith(f"fail table {doctor_env.table} does not exist: run `python -m shared")
    assert checks["prices"].startswith(
        f"fail no such price in this account: price_doesnotexist; archived: {price['lookup_key']}")
    assert checks["webhook endpoint"].startswith("fail we_")
    assert f"lacks {len(HANDLED_TYPES) - 1} event types" in checks["webhook endpoint"]
    assert checks["Stripe key"].startswith("ok") and checks["site"].startswith("ok")


def test_a_table_without_ttl_and_a_site_that_does_not_answer(doctor_env, monkeypatch, capsys):
    doctor_env.client.create_table(**table_definition(doctor_env.table))
    monkeypatch.setenv("SITE_URL", "http://127.0.0.1:9")
    assert main(["doctor", "--timeout", "1", "--endpoint-url", "https://elsewhere.example.com/api/webhook"]) == 1
    checks = lines(capsys.readouterr().out)
    assert "no TTL on expires_at" in checks["DynamoDB table"]
    assert checks["site"].startswith("fail http://127.0.0.1:9 does not answer")
    assert checks["webhook endpoint"].startswith("fail none sends to https://elsewhere.example.com/api/webhook")


def test_a_rejected_key_skips_the_checks_that_need_stripe(doctor_env, standin, capsys):
    standin.fail_next(1, status=401)
    assert main(["doctor"]) == 1
    checks = lines(capsys.readouterr().out)
    assert checks["Stripe key"].startswith("fail test mode key sk_test_…0123 does not work")
    assert checks["prices"] == "warn not checked: the Stripe key does not work"
    assert checks["webhook endpoint"] == "warn not checked: the Stripe key does not work"


def test_a_malformed_setting_is_the_one_thing_reported(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "pk_test_publishable0123")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("fail  settings") and "STRIPE_SECRET_KEY" in out and "pk_test_publishable0123" not in out


def test_checkout_options_that_stripe_would_refuse_are_named(doctor_env, standin, doctor_site, monkeypatch, tmp_path,
                                                            capsys):
    doctor_env.create_table()
    standin.add_webhook_endpoint(url=f"{doctor_site.url}/api/webhook", enabled_events=list(HANDLED_TYPES))
    (tmp_path / "shop.toml").write_text('allow_promotion_codes = "yes"\n')
    monkeypatch.setenv("CHECKOUT_CONFIG", str(tmp_path / "shop.toml"))
    assert main(["doctor"]) == 1
    assert lines(capsys.readouterr().out)["checkout options"] == (
        f"fail CHECKOUT_CONFIG ({tmp_path / 'shop.toml'}): allow_promotion_codes must be true or false; every "
        "checkout answers 500 until it is fixed")


def test_shipping_rates_must_cover_the_currency_of_every_allowed_price(doctor_env, standin, doctor_site, monkeypatch,
                                                                       capsys):
    doctor_env.create_table()
    standin.add_webhook_endpoint(url=f"{doctor_site.url}/api/webhook", enabled_events=list(HANDLED_TYPES))
    euro = standin.add_price(unit_amount=900, currency="eur")
    monkeypatch.setenv("ALLOWED_PRICES", euro["id"])  # with the repository's checkout.toml: rates in USD only
    assert main(["doctor"]) == 1
    assert lines(capsys.readouterr().out)["checkout options"].startswith(
        "fail checkout.toml: shipping_options[0].shipping_rate_data.fixed_amount has no amount in EUR")


def test_a_hook_that_does_not_import_is_named(doctor_env, standin, doctor_site, monkeypatch, capsys):
    doctor_env.create_table()
    standin.add_webhook_endpoint(url=f"{doctor_site.url}/api/webhook", enabled_events=list(HANDLED_TYPES))
    monkeypatch.setenv("FULFILLMENT_HOOK", "tests.no_such_module:grant")
    assert main(["doctor"]) == 1
    checks = lines(capsys.readouterr().out)
    assert checks["fulfilment hook"].startswith("fail FULFILLMENT_HOOK cannot be imported (ModuleNotFoundError)")
    monkeypatch.setenv("FULFILLMENT_HOOK", "tests.hooks:grant_access")
    assert main(["doctor"]) == 0
    assert lines(capsys.readouterr().out)["fulfilment hook"].startswith("ok ")
