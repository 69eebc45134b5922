import hashlib
import hmac
import time

import pytest

from shared.errors import InvalidSignature
from shared.events.signature import sign, verify
from shared.settings import Secret

SECRET = "whsec_test_secret_one"
BODY = b'{"id": "evt_1", "type": "checkout.session.completed"}'


def header(body: bytes = BODY, secret: str = SECRET, timestamp: int | None = None) -> str:
    return sign(body, secret, timestamp)


def test_accepts_a_valid_signature():
    assert verify(BODY, header(), [Secret(SECRET)]) > 0


def test_signature_is_stripes_hmac_of_timestamp_dot_body():
    stamp = 1_700_000_000
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header(timestamp=stamp) == f"t={stamp},v1={expected}"


def test_raise_on_tampered_body():
    with pytest.raises(InvalidSignature):
        verify(BODY.replace(b"evt_1", b"evt_2"), header(), [Secret(SECRET)])


def test_raise_on_wrong_secret():
    with pytest.raises(InvalidSignature):
        verify(BODY, header(secret="whsec_other"), [Secret(SECRET)])


def test_raise_on_stale_timestamp():
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(BODY, header(timestamp=int(time.time()) - 301), [Secret(SECRET)])


def test_raise_on_future_timestamp_beyond_tolerance():
    with pytest.raises(InvalidSignature):
        verify(BODY, header(timestamp=int(time.time()) + 400), [Secret(SECRET)])


def test_accepts_when_one_of_several_v1_signatures_matches():
    good = header()
    stamp, v1 = good.split(",")
    mixed = f"{stamp},v1={'0' * 64},{v1},v0=legacy"
    verify(BODY, mixed, [Secret(SECRET)])


def test_accepts_any_secret_of_a_rotation_list():
    verify(BODY, header(secret="whsec_new_secret"), [Secret(SECRET), Secret("whsec_new_secret")])


@pytest.mark.parametrize("bad", [None, "", "t=abc,v1=00", "v1=" + "a" * 64, "t=1700000000", "garbage",
                                 "t=1,v1=" + "a" * 64 + "," * 5000])
def test_raise_on_malformed_header(bad):
    with pytest.raises(InvalidSignature):
        verify(BODY, bad, [Secret(SECRET)])


def test_raise_when_no_secret_is_configured():
    with pytest.raises(InvalidSignature):
        verify(BODY, header(), [])
