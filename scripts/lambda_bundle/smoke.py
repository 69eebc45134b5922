"""Serving requests from a bundle as Lambda would: which modules the request paths import (bytecode.py ships
.pyc for them), and the smoke test (`--smoke`) that the zip alone answers them without compiling anything.

The requests run in a child interpreter (requests_child.py) with no site-packages, the bundle first on sys.path
and boto3 after it, as the Lambda runtime provides it, when this interpreter has boto3. Stripe and DynamoDB are
a stand-in on loopback (standin.py); DynamoDB answers that the table does not exist (but for create-session's
stock read, which finds no limited price), so the rate limit fails open and the webhook answers 503 after
botocore's whole round trip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from .contents import ENTRY_POINTS, ROOT, RUNTIME_PROVIDED
from .standin import SMOKE_PRICE, standin

SCRIPTS = Path(__file__).resolve().parents[1]  # where `python -m lambda_bundle.requests_child` finds this package
EVENT = ROOT / "tests" / "platform_events" / "function_url.json"
# health 200; create-session 200 from the Stripe stand-in; the signed webhook passes verification and
# cannot store it (503); the bad signature is a 400. Without boto3 here (it is the runtime's, not the
# bundle's) the rate limit is turned off, and the webhook and create-session's stock read stop at
# `import botocore` (500).
EXPECTED_STATUSES = {"health": 200, "create": 200, "webhook": 503, "bad_signature": 400}
EXPECTED_WITHOUT_BOTO3 = {**EXPECTED_STATUSES, "create": 500, "webhook": 500}
# The runtime's boto3 and what it needs, linked from this interpreter's site-packages; the bundle's own
# copies (urllib3, jmespath) come first on sys.path and win, as on Lambda.
RUNTIME_SIDE = ("boto3", "botocore", "s3transfer", "dateutil", "six", "jmespath", "urllib3")
SMOKE_SECRET = "whsec_smoke_0123456789"
TEST_ONLY = {"moto", "pytest", "uvicorn", "httpx"}


def runtime_side(folder: Path) -> Path | None:
    """`folder` holding links to this interpreter's boto3 and what it needs (RUNTIME_SIDE), or None when this
    interpreter has no boto3 or the links cannot be made."""
    folder.mkdir()
    for name in RUNTIME_SIDE:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            if name in ("boto3", "botocore"):
                return None
            continue
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        try:
            (folder / source.name).symlink_to(source, target_is_directory=source.is_dir())
        except OSError:
            return None
    return folder


def run_requests(bundle: Path) -> dict[str, Any]:
    """Serve the smoke requests from the unpacked `bundle` (requests_child.py); returns the child's report, with
    its stderr under "log" and the statuses it should have answered under "expected". Raises SystemExit if it
    crashed."""
    with standin() as url, tempfile.TemporaryDirectory(prefix="lambda-run-") as temp:
        report = Path(temp) / "report.json"
        runtime = runtime_side(Path(temp) / "runtime")
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "smoke", "AWS_SECRET_ACCESS_KEY": "smoke", "AWS_EC2_METADATA_DISABLED": "true",
               "POWERTOOLS_METRICS_NAMESPACE": "Smoke", "STRIPE_WEBHOOK_SECRET": SMOKE_SECRET,
               "STRIPE_SECRET_KEY": "sk_test_smoke0123456789", "STRIPE_API_BASE": url,
               "ALLOWED_PRICES": str(SMOKE_PRICE["id"]), "SITE_URL": "https://shop.example.com",
               "DYNAMODB_TABLE": "smoke", "DYNAMODB_ENDPOINT_URL": url}
        if runtime is None:
            env["RATE_LIMIT"] = "off"  # the limit counts in DynamoDB: without boto3 it would fail the request
        command = [sys.executable, "-S", "-E", "-s", "-B", "-m", "lambda_bundle.requests_child"]
        command += ["--runtime", str(runtime)] if runtime else []
        command += [str(bundle), str(EVENT), str(report), SMOKE_SECRET, *ENTRY_POINTS]
        done = subprocess.run(command, cwd=SCRIPTS, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not report.exists():
            raise SystemExit(f"package_lambda: the bundle failed to serve requests ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(report.read_text())
    result["log"] = done.stderr
    result["with_boto3"] = runtime is not None
    result["expected"] = EXPECTED_STATUSES if runtime is not None else EXPECTED_WITHOUT_BOTO3
    return result


def bundle_modules(report: dict[str, Any], bundle: Path) -> dict[str, dict[str, Any]]:
    """Archive name (`starlette/routing.py`, or `.pyc` when sourceless) → that module's report entry, for every
    module loaded from the bundle."""
    root = bundle.resolve()
    found = {}
    for entry in report["modules"].values():
        if not entry["file"]:
            continue
        path = Path(entry["file"]).resolve()
        if path.is_relative_to(root):
            found[path.relative_to(root).as_posix()] = entry
    return found


def compiled_from_source(report: dict[str, Any], bundle: Path) -> list[str]:
    """The bundle's modules the run compiled from source: what a cold start compiles on Lambda."""
    root = bundle.resolve()
    return sorted(Path(p).resolve().relative_to(root).as_posix() for p in report["compiled"]
                  if Path(p).resolve().is_relative_to(root))


def read_only(folder: Path, on: bool) -> None:
    """/var/task is read-only (as root, this does not stop writes: the child writes no bytecode anyway)."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555 if on else 0o755)


def smoke(bundle: Path, *, bytecode: bool = False) -> dict[str, Any]:
    """Serve the smoke requests from the zip alone: stdlib + the unzipped bundle, no site-packages, in a
    read-only folder as on Lambda. With `bytecode`, no module the requests import may be compiled from source.
    Returns the run's report, with `bundle_modules` and `compiled_from_source` added."""
    with tempfile.TemporaryDirectory(prefix="lambda-smoke-") as temp:
        folder = Path(temp) / "task"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(folder)
            shipped = set(archive.namelist())
        read_only(folder, True)
        try:
            report = run_requests(folder)
            modules = bundle_modules(report, folder)
            slow = compiled_from_source(report, folder)
            written = sorted(name for name in (p.relative_to(folder).as_posix() for p in folder.rglob("*.pyc"))
                             if name not in shipped)
        finally:
            read_only(folder, False)
    print("\n".join(line for line in report["log"].splitlines() if line.startswith("smoke:")))
    failures = [f"{name} answered {report['statuses'].get(name)}, expected {status}"
                for name, status in report["expected"].items() if report["statuses"].get(name) != status]
    banned = sorted({name.split(".")[0] for name in report["modules"]} & TEST_ONLY)
    banned += sorted({name.split("/")[0] for name in modules} & RUNTIME_PROVIDED)
    if banned:
        failures.append(f"imported {', '.join(banned)}")
    if written:
        failures.append(f"wrote bytecode into the bundle: {written[:5]}")
    sourceless = sum(1 for entry in modules.values() if entry["loader"] == "SourcelessFileLoader")
    cached = sum(1 for name, entry in modules.items() if name.endswith(".py") and entry["cached"]
                 and name not in slow)
    print(f"smoke: {len(modules)} modules from the bundle: {sourceless} from sourceless .pyc, {cached} from "
          f"__pycache__, {len(slow)} compiled from source"
          + ("" if report["with_boto3"] else " (no boto3 here: the requests stopped short of DynamoDB)"))
    if bytecode and slow:
        failures.append(f"compiled from source, though the zip has bytecode: {', '.join(slow[:8])}")
    if failures:
        raise SystemExit("package_lambda: smoke test failed: " + "; ".join(failures) + "\n" + report["log"][-3000:])
    report.update(bundle_modules=modules, compiled_from_source=slow)
    return report
