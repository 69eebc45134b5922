"""Under `serve` the pages share the app with the API; under /api the API must still answer alone, exactly as
deployed, where no static files sit beside it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from shared.cli.serve import PUBLIC_DIR
from shared.settings import Settings
from shared.web.app import create_app
from shared.web.routes import API_ROUTES
from shared.web.services import Services

ENV = {"STRIPE_SECRET_KEY": "sk_test_serveApi123", "ALLOWED_PRICES": "tshirt", "SITE_URL": "http://127.0.0.1:8000"}
PATHS = [*API_ROUTES, "/api", "/api/", "/api/x", "/api/webhook/extra", "/api/health/"]


def client(static: bool) -> TestClient:
    app = create_app(Services(Settings.from_env(ENV)), static_dir=str(PUBLIC_DIR) if static else None)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_api_errors_are_the_same_with_and_without_the_pages(method):
    deployed, local = client(static=False), client(static=True)
    for path in PATHS:
        if method == "GET" and path in ("/api/health", "/api/config", "/api/checkout-session"):
            continue  # answered by the routes themselves, not an error
        want = deployed.request(method, path, follow_redirects=False)
        got = local.request(method, path, follow_redirects=False)
        assert (got.status_code, got.headers.get("allow"), got.headers.get("location"), got.content) == \
               (want.status_code, want.headers.get("allow"), want.headers.get("location"), want.content), path
        if got.status_code in (404, 405):
            assert got.json()["error"]["code"] == {404: "not_found", 405: "method_not_allowed"}[got.status_code]


def test_get_create_checkout_session_is_a_json_405_not_the_404_page():
    answer = client(static=True).get("/api/create-checkout-session")

    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert client(static=True).get("/no-such-page").headers["content-type"].startswith("text/html")
