from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from shared.demo.standin import StripeStandIn

ROOT = Path(__file__).resolve().parents[2]
TRANSFER_SECONDS = "1"  # the bank transfer's delay, short for the tests


@pytest.fixture
def fresh_standin() -> Iterator[StripeStandIn]:
    """A stand-in of the test's own, for the stand-in's own tests (the rest share the session's `standin`)."""
    with StripeStandIn() as server:
        yield server


@pytest.fixture
def stripe_client(fresh_standin: StripeStandIn) -> stripe.StripeClient:
    """The official stripe package, pointed at the test's own stand-in."""
    return stripe.StripeClient("sk_test_123", base_addresses={"api": fresh_standin.url}, max_network_retries=0)


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any Stripe, AWS or DynamoDB setting, as on a fresh machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "AWS_", "DYNAMODB_"))}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def shared_command(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m shared …` run from `folder`, as a person at a second terminal would."""
    return subprocess.run([sys.executable, "-m", "shared", *args], cwd=folder, env=clean_environment(**env),
                          capture_output=True, text=True, timeout=60)


@dataclass
class Demo:
    url: str
    folder: Path
    process: subprocess.Popen[str]

    def orders(self) -> list[dict[str, Any]]:
        result = shared_command(self.folder, "orders", "--json", "--limit", "100")
        assert result.returncode == 0, result.stderr
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        return rows

    def order(self, session_id: str) -> list[dict[str, Any]]:
        return [row for row in self.orders() if row["session_id"] == session_id]

    def wait_for_order(self, session_id: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.order(session_id)
            if found and found[0]["status"] == status:
                assert len(found) == 1
                return found[0]
            assert time.monotonic() < deadline, f"{session_id}: {found}"
            time.sleep(0.3)

    def output(self) -> str:
        return (self.folder / "serve.out").read_text() + (self.folder / "serve.err").read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A fresh `python -m shared serve --demo` on a random port, from an empty folder."""
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    with open(folder / "serve.out", "w") as out, open(folder / "serve.err", "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared", "serve", "--demo", "--port", str(port)], cwd=folder,
            env=clean_environment(DEMO_TRANSFER_SECONDS=TRANSFER_SECONDS), stdout=out, stderr=err, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, (folder / "serve.err").read_text()
        try:
            if httpx.get(url + "/api/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the demo did not start"
        time.sleep(0.1)
    yield Demo(url, folder, process)
    process.terminate()
    process.wait(20)
