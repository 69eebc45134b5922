"""The real app as the API tests build it, and the check every error answer must pass."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from shared.orders.fulfilment import Fulfiller
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.services import Services

SITE = "https://shop.example.com"


def make_client(env: dict[str, str], store: Any, hook: Any = None, *, peer: str = "testclient",
                one_request_at_a_time: bool = False) -> TestClient:
    """The app, reached from the address `peer` (the connection's source the app sees)."""
    services = Services(Settings.from_env(env), store=store, fulfiller=Fulfiller([hook] if hook else []))
    return TestClient(create_app(services, one_request_at_a_time=one_request_at_a_time),
                      raise_server_exceptions=False, client=(peer, 50000))


def error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
