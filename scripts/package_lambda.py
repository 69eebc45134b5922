"""Build dist/lambda.zip: the AWS Lambda bundle `serverless deploy` ships (package.artifact).

    python scripts/package_lambda.py            # build for the Lambda runtime (arm64, Python 3.13): run it with 3.13
    uv run --python 3.13 python scripts/package_lambda.py   # the same, from any machine with uv
    python scripts/package_lambda.py --smoke    # …then serve requests from it in a bare interpreter
    python scripts/package_lambda.py --python-version 3.12 --output dist/lambda-312.zip   # another runtime

Holds the runtime dependencies from requirements.txt as manylinux aarch64 wheels, without boto3 and
botocore (the Lambda Python runtime provides them), without anything only tests or the local server
use (moto, pytest, uvicorn, httpx are not in requirements.txt), without console scripts, plus the
`shared/` and `functions/` packages. Entries are sorted with fixed timestamps, so the same sources
make the same zip and an unchanged bundle is not redeployed.

Bytecode. Lambda unpacks the zip into a read-only /var/task, so Python cannot cache what it compiles:
without .pyc in the zip, every cold start compiles every module it imports again (+258 ms on
create-session, +154 ms on a webhook: bench/cold_start.py). .pyc for everything would double the zip
(~10 MB), so the build runs the bundle once — a create-session call and webhook calls through
`functions.aws_lambda.handler`, in a bare interpreter with only the bundle on sys.path (and boto3 after
it, as the runtime provides it) — and ships bytecode for the modules that run compiled: a third-party
module's source is replaced by a sourceless `module.pyc` beside where `module.py` was (Python imports
that when there is no .py), unless the module reads its own source (anyio's lazy importer); `shared/`
and `functions/` keep their sources (readable tracebacks) and get `__pycache__/<name>.cpython-3XY.pyc`
for every module the Lambda handlers can import (all routes, the EventBridge function; not the
seller's command-line tools). Every .pyc is compiled with unchecked hashes: Python uses it without
comparing timestamps (a zip's are fixed) or reading the source, and its header holds a hash of the
source, not a time; compiled in a fresh interpreter with a fixed hash seed, the same sources make the
same bytes. --smoke then checks, from the zip unpacked read-only, that no module the requests import is
compiled from source.

Bytecode belongs to one Python minor version and cannot be made by another: it is only built when
this interpreter is the target version (--python-version, default the runtime's, 3.13). Otherwise the
zip has none, and a warning says what that costs and how to build with the right Python. A zip for
another version than serverless.yml's provider.runtime is refused for dist/lambda.zip (what
`serverless deploy` ships) and, with --runtime-check, for any output; elsewhere it is warned about.
"""

from __future__ import annotations

import argparse
import ast
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "dist" / "lambda.zip"
SERVERLESS = ROOT / "serverless.yml"
PLATFORM = "manylinux2014_aarch64"  # serverless.yml: architecture arm64
PYTHON_VERSION = "3.13"  # serverless.yml: runtime python3.13
# Provided by the Lambda Python runtime; bundling them would only add megabytes.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
SOURCE_PACKAGES = ("shared", "functions")
# The modules serverless.yml's functions name as handlers (a test keeps them equal).
ENTRY_POINTS = ("functions.aws_lambda", "functions.aws_eventbridge")
PRUNED_DIRS = {"__pycache__", "bin"}
# Powertools' REST/GraphQL router and its bundled Swagger UI (2 MB): the app routes with Starlette.
PRUNED_PREFIXES = ("aws_lambda_powertools/event_handler/",)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SIZE_BUDGET = 5_000_000  # bytes, zipped (bench/sizes.py's target)
# What a build without bytecode costs each cold start, measured by bench/cold_start.py.
NO_BYTECODE_COST = "about +258 ms on create-session and +154 ms on a webhook"


def requirement_name(line: str) -> str | None:
    """The distribution a requirements line names, or None for comments, blanks and options."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return match.group(0).lower().replace("_", "-") if match else None


def runtime_requirements(requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """requirements.txt without what the Lambda runtime already has."""
    kept = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name = requirement_name(line)
        if name is not None and name not in RUNTIME_PROVIDED:
            kept.append(line.split("#", 1)[0].strip())
    return kept


def serverless_runtime(config: Path = SERVERLESS) -> str | None:
    """The Python version serverless.yml's provider.runtime names (`python3.13` → "3.13"), or None."""
    if not config.is_file():
        return None
    in_provider = False
    for line in config.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            in_provider = line.split("#", 1)[0].rstrip() == "provider:"
        elif in_provider:
            match = re.match(r"""\s+runtime:\s*["']?python(\d+\.\d+)["']?\s*(#.*)?$""", line)
            if match:
                return match.group(1)
    return None


def interpreter_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def bytecode_problem(python_version: str) -> str | None:
    """Why this interpreter cannot make bytecode the `python_version` runtime will use, or None."""
    if sys.implementation.name != "cpython":
        return f"this is {sys.implementation.name}, and Lambda runs CPython"
    if interpreter_version() != python_version:
        return (f"it is for Python {python_version} and this is Python {interpreter_version()}, "
                f"whose .pyc Python {python_version} cannot load")
    return None


def install_dependencies(target: Path, requirements: list[str], *, platform: str = PLATFORM,
                         python_version: str = PYTHON_VERSION, allow: frozenset[str] | set[str] = frozenset()) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(requirements) + "\n")
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--no-compile",
             "--target", str(target), "--platform", platform, "--python-version", python_version,
             "--implementation", "cp", "--only-binary=:all:", "--upgrade", "-r", handle.name],
            check=True)
    finally:
        os.unlink(handle.name)
    leaked = sorted(name for name in RUNTIME_PROVIDED - set(allow) if (target / name).exists())
    if leaked:
        raise SystemExit(f"package_lambda: {', '.join(leaked)} came in as a dependency; the runtime provides it")


def bundle_files(site: Path, root: Path = ROOT) -> dict[str, Path]:
    """Archive name → file: the installed dependencies and our own packages, pruned, without bytecode."""
    files: dict[str, Path] = {}
    trees = [(site, site)] + [(root, root / package) for package in SOURCE_PACKAGES]
    for base, tree in trees:
        for path in sorted(tree.rglob("*")):
            relative = path.relative_to(base)
            if path.is_dir() or PRUNED_DIRS.intersection(relative.parts) or path.suffix in (".pyc", ".pyo"):
                continue
            if relative.as_posix().startswith(PRUNED_PREFIXES):
                continue
            if base is root and path.suffix != ".py":
                continue
            files[relative.as_posix()] = path
    return files


def write_zip(files: dict[str, Path], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())


# --- running the bundle: which modules the request paths import, and the smoke test -----------------------

# One cold start: a health check, a create-session call, a signed webhook and a badly signed one, through
# the Lambda handler. Stripe and DynamoDB are a stand-in on loopback; DynamoDB answers that the table does
# not exist, so the rate limit fails open and the webhook answers 503 after botocore's whole round trip.
# boto3 comes after the bundle on sys.path, as on Lambda, when this interpreter has it. Nothing is written
# next to the modules (/var/task is read-only); each module compiled from source is noted. The report goes
# to a file: Powertools logs to stdout.
REQUESTS = r"""
import sys
sys.dont_write_bytecode = True
import importlib.machinery
compiled = []
_source_to_code = importlib.machinery.SourceFileLoader.source_to_code

def _noting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _source_to_code(self, data, path, *args, **kwargs)

importlib.machinery.SourceFileLoader.source_to_code = _noting
import copy, hashlib, hmac, json, time
bundle, template, report, secret, runtime = sys.argv[1:6]
sys.path[:0] = [bundle]
if runtime:
    sys.path.append(runtime)  # boto3, as the Lambda runtime provides it: after the bundle
with open(template) as handle:
    template = json.load(handle)
from functions.aws_lambda import handler
statuses = {}

def call(name, method, path, body="", headers=()):
    event = copy.deepcopy(template)
    event.update(rawPath=path, body=body, isBase64Encoded=False)
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"].update({"content-length": str(len(body.encode())), **dict(headers)})
    response = handler(event, None)
    statuses[name] = response["statusCode"]
    print(f"smoke: {method} {path} ({name}) -> {response['statusCode']} {response['body'][:70]}", file=sys.stderr)

def signature(payload):
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"

now = int(time.time())
items = [{"price": "price_smoke", "quantity": 1, "description": "Smoke", "amount_total": 1500}]
session = {"id": "cs_test_smoke", "object": "checkout.session", "status": "complete", "payment_status": "paid",
           "mode": "payment", "amount_total": 1500, "amount_subtotal": 1500, "currency": "usd",
           "payment_intent": "pi_smoke", "customer": None, "created": now - 60, "livemode": False,
           "customer_details": {"email": "buyer@example.com", "name": "Smoke"},
           "metadata": {"static_checkout_items": json.dumps(items)}}
stripe_event = json.dumps({"id": "evt_smoke", "object": "event", "type": "checkout.session.completed",
                           "created": now, "livemode": False, "data": {"object": session}})
call("health", "GET", "/api/health")
call("create", "POST", "/api/create-checkout-session", json.dumps({"priceId": "price_smoke", "quantity": 1}),
     {"content-type": "application/json", "origin": "https://shop.example.com"})
call("webhook", "POST", "/api/webhook", stripe_event,
     {"content-type": "application/json", "stripe-signature": signature(stripe_event)})
call("bad_signature", "POST", "/api/webhook", '{"id": "evt_1"}', {"stripe-signature": "t=1,v1=00"})
modules = {}
for name, module in list(sys.modules.items()):
    spec = getattr(module, "__spec__", None)
    modules[name] = {"file": getattr(module, "__file__", None), "cached": getattr(spec, "cached", None),
                     "loader": type(getattr(module, "__loader__", None)).__name__}
with open(report, "w") as handle:
    json.dump({"statuses": statuses, "modules": modules, "compiled": compiled}, handle)
"""
# health 200; create-session 200 from the Stripe stand-in; the signed webhook passes verification and
# cannot store it (503); the bad signature is a 400. Without boto3 here (it is the runtime's, not the
# bundle's) the rate limit is turned off and the webhook stops at `import botocore` (500).
EXPECTED_STATUSES = {"health": 200, "create": 200, "webhook": 503, "bad_signature": 400}
EXPECTED_WITHOUT_BOTO3 = {**EXPECTED_STATUSES, "webhook": 500}
# The runtime's boto3 and what it needs, linked from this interpreter's site-packages; the bundle's own
# copies (urllib3, jmespath) come first on sys.path and win, as on Lambda.
RUNTIME_SIDE = ("boto3", "botocore", "s3transfer", "dateutil", "six", "jmespath", "urllib3")
SMOKE_SECRET = "whsec_smoke_0123456789"
SMOKE_PRICE = {"id": "price_smoke", "object": "price", "active": True, "currency": "usd", "unit_amount": 1500,
               "type": "one_time", "lookup_key": None, "metadata": {},
               "product": {"id": "prod_smoke", "object": "product", "name": "Smoke"}}
SMOKE_SESSION = {"id": "cs_test_smoke", "object": "checkout.session",
                 "url": "https://checkout.stripe.com/c/pay/cs_test_smoke"}


class _StandIn(http.server.BaseHTTPRequestHandler):
    """Just enough of Stripe for create-session (a price, a new Checkout Session), and a DynamoDB without the
    table."""

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any], content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self) -> None:
        self._answer(404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No."}})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == f"/v1/prices/{SMOKE_PRICE['id']}":
            self._answer(200, SMOKE_PRICE)
        else:
            self._missing()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("x-amz-target", "").startswith("DynamoDB_"):
            self._answer(400, {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                               "message": "Requested resource not found"}, "application/x-amz-json-1.0")
        elif self.path == "/v1/checkout/sessions":
            self._answer(200, SMOKE_SESSION)
        else:
            self._missing()


@contextmanager
def standin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def runtime_side(folder: Path) -> Path | None:
    """`folder` holding links to this interpreter's boto3 and what it needs (RUNTIME_SIDE), or None when this
    interpreter has no boto3 or the links cannot be made."""
    import importlib.util

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
    """Serve REQUESTS from the unpacked `bundle` in a bare interpreter (no site-packages; on sys.path only the
    bundle, and boto3 after it); returns the child's report, with its stderr under "log" and the statuses it
    should have answered under "expected". Raises SystemExit if it crashed."""
    event = ROOT / "tests" / "platform_events" / "function_url.json"
    with standin() as url, tempfile.TemporaryDirectory(prefix="lambda-run-") as temp:
        report = Path(temp) / "report.json"
        runtime = runtime_side(Path(temp) / "runtime")
        env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "smoke", "AWS_SECRET_ACCESS_KEY": "smoke", "AWS_EC2_METADATA_DISABLED": "true",
               "POWERTOOLS_METRICS_NAMESPACE": "Smoke", "STRIPE_WEBHOOK_SECRET": SMOKE_SECRET,
               "STRIPE_SECRET_KEY": "sk_test_smoke0123456789", "STRIPE_API_BASE": url,
               "ALLOWED_PRICES": SMOKE_PRICE["id"], "SITE_URL": "https://shop.example.com",
               "DYNAMODB_TABLE": "smoke", "DYNAMODB_ENDPOINT_URL": url}
        if runtime is None:
            env["RATE_LIMIT"] = "off"  # the limit counts in DynamoDB: without boto3 it would fail the request
        # -I ignores PYTHONDONTWRITEBYTECODE: the child sets sys.dont_write_bytecode itself.
        done = subprocess.run([sys.executable, "-S", "-I", "-c", REQUESTS, str(bundle), str(event), str(report),
                               SMOKE_SECRET, str(runtime or "")], env=env, capture_output=True, text=True, timeout=120)
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


# --- bytecode ----------------------------------------------------------------------------------------------

# In a fresh interpreter with a fixed hash seed, the files in a fixed order: marshal's output depends on
# the compiling process's state (which strings are shared), so the same sources make the same bytes.
COMPILE = r"""
import json, py_compile, sys
for source, target, shown in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=shown, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


def compile_bytecode(jobs: dict[str, tuple[str, Path]], target: Path) -> dict[str, Path]:
    """Compile each source into target/<pyc name>, with unchecked hashes; pyc name → (source's archive name,
    source file). Tracebacks name the archive path. Returns pyc name → compiled file."""
    listed = [[str(source), str(target / name), shown] for name, (shown, source) in sorted(jobs.items())]
    for _, output, _ in listed:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}  # not -I: it would ignore the seed
    with tempfile.TemporaryDirectory(prefix="lambda-compile-") as empty:  # the child's sys.path[0]: nothing to shadow
        subprocess.run([sys.executable, "-S", "-c", COMPILE], input=json.dumps(listed), env=env, cwd=empty,
                       check=True, text=True, timeout=300)
    return {name: target / name for name in jobs}


# Modules that read their own source at import: anyio's lazy importer parses its package's __init__ with
# inspect.getsource, and without the source falls back to importing every submodule. They keep their
# sources and get __pycache__ bytecode, as ours do. (The smoke test catches any other: see smoke().)
READS_OWN_SOURCE = re.compile(r"^(?!\s*def )[^#\n]*\binstall_lazy_importer\(\)", re.M)


def reachable(files: dict[str, Path], entry_points: tuple[str, ...] = ENTRY_POINTS) -> set[str]:
    """Our modules (archive names) the Lambda handlers can import: the import graph from `entry_points` through
    shared/ and functions/, imports inside functions included (every route, the EventBridge function), the
    seller's command-line tools not."""
    def archive_name(module: str) -> str | None:
        base = module.replace(".", "/")
        return next((name for name in (base + ".py", base + "/__init__.py") if name in files), None)

    found: set[str] = set()
    pending = list(entry_points)
    while pending:
        module = pending.pop()
        name = archive_name(module)
        if name is None or name in found or name.split("/")[0] not in SOURCE_PACKAGES:
            continue
        found.add(name)
        package = module if name.endswith("/__init__.py") else module.rpartition(".")[0]
        pending += [module.rsplit(".", depth)[0] for depth in range(1, module.count(".") + 1)]  # parents
        for node in ast.walk(ast.parse(files[name].read_bytes(), name)):
            if isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                pending += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return found


@dataclass
class Bytecode:
    sourceless: list[str] = field(default_factory=list)  # third-party modules shipped as module.pyc only
    cached: list[str] = field(default_factory=list)  # sources kept, with __pycache__/<name>.<tag>.pyc: ours, and
    kept: list[str] = field(default_factory=list)  # …the third-party ones that read their own source
    imported: int = 0  # bundle modules the request paths imported
    with_boto3: bool = True  # whether the run had boto3 (it imports some of the bundle's modules)


def add_bytecode(files: dict[str, Path], workdir: Path) -> tuple[dict[str, Path], Bytecode]:
    """Run the bundle `files` make, and add bytecode for what its request paths import (see the docstring)."""
    stage = workdir / "stage"
    for name, path in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, stage / name)
    report = run_requests(stage)
    # What the run compiled is what a cold start compiles: the modules it imported, and those it tried to
    # (urllib3.contrib.socks, whose import fails without PySocks, is compiled on every cold start all the same).
    imported = set(compiled_from_source(report, stage))
    imported |= {name for name in bundle_modules(report, stage) if name.endswith(".py")}
    ours = sorted(reachable(files) | {name for name in imported if name.split("/")[0] in SOURCE_PACKAGES})
    theirs = sorted(name for name in imported if name.split("/")[0] not in SOURCE_PACKAGES and name in files)
    kept = [name for name in theirs if READS_OWN_SOURCE.search(files[name].read_text("utf-8", errors="replace"))]
    sourceless = [name for name in theirs if name not in kept]
    tag = sys.implementation.cache_tag
    jobs: dict[str, tuple[str, Path]] = {}
    for name in ours + kept:
        folder, _, module = name.rpartition("/")
        jobs[f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc"] = (name, files[name])
    for name in sourceless:
        jobs[name[:-3] + ".pyc"] = (name, files[name])
    compiled = compile_bytecode(jobs, workdir / "bytecode")
    shipped = {name: path for name, path in files.items() if name not in sourceless}
    shipped.update(compiled)
    return shipped, Bytecode(sourceless=sourceless, cached=ours, kept=kept, imported=len(imported),
                             with_boto3=report["with_boto3"])


# --- build -------------------------------------------------------------------------------------------------


@dataclass
class Build:
    sizes: dict[str, int]  # archive name → uncompressed bytes
    python_version: str
    bytecode: Bytecode | None  # None: built without


def build(output: Path = OUTPUT, *, python_version: str = PYTHON_VERSION, bytecode: bool = True) -> Build:
    """Build the zip, with bytecode when asked for and this interpreter can make it (see bytecode_problem)."""
    with tempfile.TemporaryDirectory(prefix="lambda-deps-") as temp:
        site = Path(temp) / "site"
        install_dependencies(site, runtime_requirements(), python_version=python_version)
        files = bundle_files(site)
        compiled = None
        if bytecode and bytecode_problem(python_version) is None:
            files, compiled = add_bytecode(files, Path(temp))
        write_zip(files, output)
        return Build({name: path.stat().st_size for name, path in files.items()}, python_version, compiled)


def smoke(bundle: Path, *, bytecode: bool = False) -> dict[str, Any]:
    """Serve the smoke requests from the zip alone: stdlib + the unzipped bundle, no site-packages, in a
    read-only folder as on Lambda. With `bytecode`, no module the requests import may be compiled from source.
    Returns the run's report."""
    with tempfile.TemporaryDirectory(prefix="lambda-smoke-") as temp:
        folder = Path(temp) / "task"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(folder)
        read_only(folder, True)
        try:
            report = run_requests(folder)
            modules = bundle_modules(report, folder)
            slow = compiled_from_source(report, folder)
            with zipfile.ZipFile(bundle) as archive:
                shipped = set(archive.namelist())
            written = sorted(name for name in (p.relative_to(folder).as_posix() for p in folder.rglob("*.pyc"))
                             if name not in shipped)
        finally:
            read_only(folder, False)
    print("\n".join(line for line in report["log"].splitlines() if line.startswith("smoke:")))
    failures = [f"{name} answered {report['statuses'].get(name)}, expected {status}"
                for name, status in report["expected"].items() if report["statuses"].get(name) != status]
    banned = sorted({name.split(".")[0] for name in report["modules"]} & {"moto", "pytest", "uvicorn", "httpx"})
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


def read_only(folder: Path, on: bool) -> None:
    """/var/task is read-only (as root, this does not stop writes: the child writes no bytecode anyway)."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555 if on else 0o755)


def warn(message: str) -> None:
    sys.stdout.flush()
    print(f"package_lambda: WARNING: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--smoke", action="store_true",
                        help="after building, serve health, create-session and webhook calls from the bundle in a "
                             "bare interpreter")
    parser.add_argument("--python-version", default=PYTHON_VERSION, metavar="X.Y",
                        help=f"the Lambda runtime's Python (default {PYTHON_VERSION}, serverless.yml's); bytecode is "
                             "only built when this interpreter is that version")
    parser.add_argument("--runtime-check", action="store_true",
                        help="refuse a --python-version other than serverless.yml's provider.runtime (always on "
                             f"when writing {OUTPUT.relative_to(ROOT)}, the artifact serverless.yml deploys)")
    parser.add_argument("--no-bytecode", action="store_true", help="ship sources only (as before; slower cold starts)")
    args = parser.parse_args(argv)
    version = args.python_version
    if not re.fullmatch(r"3\.\d+", version):
        parser.error(f"--python-version must look like 3.13, not {version!r}")

    runtime = serverless_runtime()
    if runtime is not None and runtime != version:
        artifact = args.output.resolve() == OUTPUT.resolve()
        compiles = not args.no_bytecode and bytecode_problem(version) is None
        why_not = ("its .pyc would not load there (\"bad magic number\")" if compiles
                   else "its dependencies are chosen for that version")
        message = (f"serverless.yml deploys python{runtime} (provider.runtime) but this zip is for Python {version}"
                   f": {why_not}. Set provider.runtime: python{version} in serverless.yml, or build for {runtime}.")
        if args.runtime_check or artifact:
            why = f"{OUTPUT.relative_to(ROOT)} is what serverless.yml deploys" if artifact else "--runtime-check"
            raise SystemExit(f"package_lambda: refused ({why}): {message}")
        warn(message)

    problem = None if args.no_bytecode else bytecode_problem(version)
    if problem:
        warn(f"no bytecode in this zip: {problem}. Lambda unpacks the zip into a read-only /var/task, so every "
             f"cold start will compile each module it imports ({NO_BYTECODE_COST}, bench/cold_start.py). Build with "
             f"Python {version} to ship bytecode, e.g.: uv run --python {version} python scripts/package_lambda.py")
    result = build(args.output, python_version=version, bytecode=not args.no_bytecode)
    size = args.output.stat().st_size
    unzipped = sum(result.sizes.values())
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"{shown}: {size / 1e6:.2f} MB zipped (budget {SIZE_BUDGET / 1e6:.0f} MB), {unzipped / 1e6:.1f} MB unzipped, "
          f"{len(result.sizes)} files ({PLATFORM}, Python {version})")
    code = result.bytecode
    if code is not None:
        print(f"bytecode ({sys.implementation.cache_tag}, unchecked hash): {code.imported} modules imported by the "
              f"request paths; {len(code.sourceless)} third-party ones shipped as sourceless .pyc, "
              f"{len(code.cached) + len(code.kept)} with __pycache__/*.pyc beside their sources (ours the handlers "
              f"reach" + (f"; {', '.join(code.kept)}, which read their own source" if code.kept else "") + ")")
        if not code.with_boto3:
            warn("boto3 is not installed here, so the requests stopped where they reach DynamoDB: what the "
                 "runtime's boto3 imports from the bundle (urllib3.contrib.pyopenssl) has no bytecode. Install "
                 "requirements.txt into the building environment for a complete run.")
    else:
        print("bytecode: none" + (" (--no-bytecode)" if args.no_bytecode else ""))
    if size > SIZE_BUDGET:
        warn(f"the zip is {size / 1e6:.2f} MB, over the {SIZE_BUDGET / 1e6:.0f} MB budget")
    if args.smoke:
        smoke(args.output, bytecode=code is not None)
    print(json.dumps({"zip_bytes": size, "unzipped_bytes": unzipped, "python_version": version,
                      "pyc_files": sum(1 for name in result.sizes if name.endswith(".pyc"))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
