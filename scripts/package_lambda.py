"""Build dist/lambda.zip: the AWS Lambda bundle `serverless deploy` ships (package.artifact).

    python scripts/package_lambda.py            # build for the Lambda runtime (arm64, Python 3.13)
    python scripts/package_lambda.py --smoke    # …then import it in a bare interpreter and answer a health check

Holds the runtime dependencies from requirements.txt as manylinux aarch64 wheels, without boto3 and
botocore (the Lambda Python runtime provides them), without anything only tests or the local server
use (moto, pytest, uvicorn, httpx are not in requirements.txt), without bytecode and console scripts,
plus the `shared/` and `functions/` packages. Entries are sorted with fixed timestamps, so the same
sources make the same zip and an unchanged bundle is not redeployed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "dist" / "lambda.zip"
PLATFORM = "manylinux2014_aarch64"  # serverless.yml: architecture arm64
PYTHON_VERSION = "3.13"  # serverless.yml: runtime python3.13
# Provided by the Lambda Python runtime; bundling them would only add megabytes.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
SOURCE_PACKAGES = ("shared", "functions")
PRUNED_DIRS = {"__pycache__", "bin"}
# Powertools' REST/GraphQL router and its bundled Swagger UI (2 MB): the app routes with Starlette.
PRUNED_PREFIXES = ("aws_lambda_powertools/event_handler/",)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


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
    """Archive name → file: the installed dependencies and our own packages, pruned."""
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


def build(output: Path = OUTPUT) -> dict[str, int]:
    """Build the zip; returns archive name → uncompressed size."""
    with tempfile.TemporaryDirectory(prefix="lambda-deps-") as temp:
        install_dependencies(Path(temp), runtime_requirements())
        files = bundle_files(Path(temp))
        write_zip(files, output)
        return {name: path.stat().st_size for name, path in files.items()}


SMOKE = r"""
import copy, json, sys
sys.path[:0] = [sys.argv[1]]
from functions.aws_lambda import handler
template = json.loads(open(sys.argv[2]).read())

def call(method, path, body=""):
    event = copy.deepcopy(template)
    event.update(rawPath=path, body=body, isBase64Encoded=False)
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"].update({"content-length": str(len(body)), "stripe-signature": "t=1,v1=00"})
    response = handler(event, None)
    print(f"smoke: {method} {path} -> {response['statusCode']} {response['body'][:60]}")
    return response["statusCode"]

assert call("GET", "/api/health") == 200
assert call("POST", "/api/webhook", '{"id": "evt_1"}') == 400  # a bad signature, through Powertools logs and metrics
import stripe  # the checkout path's client loads
banned = [name for name in ("moto", "pytest", "uvicorn", "httpx", "boto3") if name in sys.modules]
assert not banned, banned
"""


def smoke(bundle: Path) -> None:
    """Serve a health check from the bundle alone: stdlib + the unzipped bundle, no site-packages."""
    with tempfile.TemporaryDirectory(prefix="lambda-smoke-") as temp:
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(temp)
        event = ROOT / "tests" / "platform_events" / "function_url.json"
        env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "POWERTOOLS_METRICS_NAMESPACE": "Smoke",
               "STRIPE_WEBHOOK_SECRET": "whsec_smoke_0123456789"}
        subprocess.run([sys.executable, "-S", "-I", "-c", SMOKE, temp, str(event)], check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--smoke", action="store_true",
                        help="after building, serve GET /api/health from the bundle in a bare interpreter")
    args = parser.parse_args(argv)
    files = build(args.output)
    size = args.output.stat().st_size
    unzipped = sum(files.values())
    print(f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}: "
          f"{size / 2**20:.1f} MB zipped, {unzipped / 2**20:.1f} MB unzipped, {len(files)} files "
          f"({PLATFORM}, Python {PYTHON_VERSION})")
    if args.smoke:
        smoke(args.output)
    print(json.dumps({"zip_bytes": size, "unzipped_bytes": unzipped}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
