"""The command line: create-table, reconcile, orders, and `serve` from a fresh environment."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import httpx
import pytest

from shared.cli.main import main, parse_window
from shared.events.intake import process
from shared.orders.fulfilment import Fulfiller
from shared.store.dynamo import DynamoStore
from tests.conftest import SECRET_KEY, WEBHOOK_SECRET
from tests.fakes import make_charge, make_session

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli_env(monkeypatch, local_dynamo, standin, tmp_path):
    table = f"cli-{uuid.uuid4().hex[:8]}"
    for name, value in {"DYNAMODB_ENDPOINT_URL": local_dynamo.url, "DYNAMODB_TABLE": table,
                        "AWS_REGION": "us-east-1", "STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_API_BASE": standin.url,
                        "ALLOWED_PRICES": "*", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return DynamoStore(table, endpoint_url=local_dynamo.url, region="us-east-1")


def test_create_table_is_idempotent_and_sets_ttl(cli_env, capsys):
    assert main(["create-table"]) == 0
    assert main(["create-table"]) == 0
    out = capsys.readouterr().out
    assert "created" in out and "already exists" in out
    ttl = cli_env.client.describe_time_to_live(TableName=cli_env.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    indexes = cli_env.client.describe_table(TableName=cli_env.table)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {"by_email", "by_created"}


def test_reconcile_applies_only_the_missing_events(cli_env, standin, capsys):
    cli_env.create_table()
    sessions = [make_session(payment_intent=f"pi_rec_{i}_{uuid.uuid4().hex[:6]}") for i in range(3)]
    now = int(time.time())
    events = [standin.add_event("checkout.session.completed", s, created=now - 100 + i) for i, s in enumerate(sessions)]
    standin.add_event("charge.refunded", make_charge(sessions[2]["payment_intent"]), created=now - 10)
    standin.add_event("product.created", {"id": "prod_x"}, created=now - 5)  # not a handled type
    standin.add_event("checkout.session.completed", make_session(), created=now - 4 * 86400)  # outside the window
    process(events[0], cli_env, Fulfiller([]))  # the webhook got this one

    assert main(["reconcile", "--since", "72h", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("3 missing, 1 already applied")
    assert cli_env.get(f"ORDER#{sessions[1]['id']}") is None

    assert main(["reconcile", "--since", "72h"]) == 0
    assert capsys.readouterr().out.startswith("3 new, 1 already applied, 0 ignored, 0 failed")
    assert cli_env.get(f"ORDER#{sessions[1]['id']}")["status"] == "paid"
    assert cli_env.get(f"ORDER#{sessions[2]['id']}")["status"] == "refunded"

    assert main(["reconcile", "--since", "72h"]) == 0
    assert capsys.readouterr().out.startswith("0 new, 4 already applied")


def test_orders_lists_recent_orders_with_a_status_filter(cli_env, capsys):
    cli_env.create_table()
    paid, unpaid = make_session(email="paid@example.com"), make_session(payment_status="unpaid")
    for session in (paid, unpaid):
        from tests.fakes import make_event

        process(make_event("checkout.session.completed", session), cli_env, Fulfiller([]))
    assert main(["orders"]) == 0
    listing = capsys.readouterr().out
    assert paid["id"][:28] in listing and unpaid["id"][:28] in listing and "30.00 USD" in listing
    assert main(["orders", "--status", "paid"]) == 0
    listing = capsys.readouterr().out
    assert paid["id"][:28] in listing and unpaid["id"][:28] not in listing and "fulfilled" in listing


def test_window_parsing():
    assert parse_window("72h") == 72 * 3600 and parse_window("3d") == 3 * 86400 and parse_window("90m") == 5400
    with pytest.raises(argparse.ArgumentTypeError):
        parse_window("yesterday")


def test_cli_reports_missing_settings_by_name(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    assert main(["reconcile"]) == 1
    assert "STRIPE_SECRET_KEY is not set" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _first_answer(url: str) -> httpx.Response:
    # The line is printed just before uvicorn binds the port: on a busy machine the first connection can
    # arrive before it listens.
    for _ in range(100):
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            time.sleep(0.1)
    return httpx.get(url)


def test_serve_starts_from_a_fresh_clone_with_placeholder_keys(tmp_path):
    """`./dev serve` on a new machine: .env from .env.example, no AWS credentials, no DynamoDB."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRIPE_", "DYNAMODB_", "SITE_URL"))}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "shared", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "Serving the store" in line or server.poll() is not None:
                break
        output = "".join(lines)
        assert "embedded DynamoDB-compatible server" in output, output
        assert "placeholder" in output and "sk_test_" in output and "./dev serve --demo" in output
        page = _first_answer(f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and "data-price-id" in page.text
        assert "Demo — no real payments" not in page.text  # the banner is the demo's alone
        assert "content-security-policy" in page.headers
        health = httpx.get(f"http://127.0.0.1:{port}/api/health").json()
        assert health["status"] == "ok" and "STRIPE_SECRET_KEY" in health["settings"]["present"]
        # The embedded table works: the success page's order lookup reaches it.
        assert httpx.get(f"http://127.0.0.1:{port}/api/checkout-session",
                         params={"session_id": "bad"}).json()["error"]["code"] == "invalid_session_id"
    finally:
        server.terminate()
        server.wait(10)


def test_serve_refuses_to_start_without_a_key_and_says_which(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "ALLOWED_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "shared", "serve", "--port", str(free_port())], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "STRIPE_SECRET_KEY is not set" in result.stderr


def test_boto3_is_not_needed_to_import_the_app():
    code = ("import sys, shared.web.app; shared.web.app.create_app(); "
            "print('boto3' in sys.modules, 'stripe' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"]


_ = boto3  # moto's server is reached through boto3 in the fixtures above
