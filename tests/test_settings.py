from __future__ import annotations

import pytest

from shared.errors import Misconfigured
from shared.settings import Secret, Settings, read_dotenv

GOOD = {"STRIPE_SECRET_KEY": "sk_test_abcdef123456", "ALLOWED_PRICES": "price_1, shirt-key",
        "SITE_URL": "https://shop.example.com/", "STRIPE_WEBHOOK_SECRET": "whsec_abcdef,whsec_ghijkl"}


def test_reads_every_setting():
    settings = Settings.from_env(GOOD)
    assert settings.stripe_secret_key.reveal() == "sk_test_abcdef123456"
    assert settings.allowed_prices == ("price_1", "shirt-key")
    assert settings.site_url == "https://shop.example.com"
    assert len(settings.webhook_secrets) == 2
    assert settings.dynamodb_table == "static-checkout"
    assert "STRIPE_SECRET_KEY" in settings.present and "EMAIL_FROM" not in settings.present


def test_secrets_never_show_in_repr_or_str():
    settings = Settings.from_env(GOOD)
    for text in (repr(settings), str(settings), f"{settings.stripe_secret_key}"):
        assert "sk_test_abcdef123456" not in text and "whsec_abcdef" not in text
    assert repr(Secret("x")) == "Secret('**********')"


@pytest.mark.parametrize("name,value", [
    ("STRIPE_SECRET_KEY", "pk_test_abcdef123456"),
    ("STRIPE_SECRET_KEY", "sk_test_has space"),
    ("STRIPE_WEBHOOK_SECRET", "not-a-secret"),
    ("SITE_URL", "mysite.test"),
    ("ALLOWED_PRICES", "*,price_1"),
    ("ALLOWED_PRICES", "price one"),
    ("STRIPE_API_BASE", "ftp://x"),
    ("STRIPE_TIMEOUT", "-1"),
])
def test_malformed_setting_is_named_and_its_value_not_shown(name, value):
    with pytest.raises(Misconfigured) as raised:
        Settings.from_env({**GOOD, name: value})
    assert name in raised.value.message and value not in raised.value.message


def test_missing_required_setting_is_named_when_needed():
    settings = Settings.from_env({})
    with pytest.raises(Misconfigured, match="ALLOWED_PRICES is not set"):
        settings.require("allowed_prices")
    with pytest.raises(Misconfigured, match="STRIPE_SECRET_KEY"):
        settings.require("stripe_secret_key")


def test_star_must_be_written_explicitly_to_allow_any_price():
    assert Settings.from_env({"ALLOWED_PRICES": "*"}).allowed_prices == ("*",)
    assert Settings.from_env({}).allowed_prices is None


def test_dotenv_fills_only_what_the_environment_lacks(tmp_path):
    (tmp_path / ".env").write_text("# comment\nA=from-file\nexport B='quoted value'\nC=x # note\n\nBROKEN\n")
    env = {"A": "from-env"}
    assert read_dotenv(tmp_path / ".env", env) == ["B", "C"]
    assert env == {"A": "from-env", "B": "quoted value", "C": "x"}


def test_missing_dotenv_is_fine(tmp_path):
    assert read_dotenv(tmp_path / ".env", {}) == []
