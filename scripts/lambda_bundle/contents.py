"""What the Lambda zip holds: the runtime dependencies from requirements.txt as manylinux aarch64 wheels,
without what the Lambda Python runtime provides (boto3, botocore) and without console scripts, plus
`shared/` and `functions/` — without the seller's command-line tools, which no request path imports — and the
files at the project root the function reads (`checkout.toml`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS = ROOT / "serverless.yml"
PLATFORM = "manylinux2014_aarch64"  # serverless.yml: architecture arm64
PYTHON_VERSION = "3.13"  # serverless.yml: runtime python3.13
# Provided by the Lambda Python runtime; bundling them would only add megabytes.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
SOURCE_PACKAGES = ("shared", "functions")
# Left out of every deployed function, by folder (vercel.json's excludeFiles names the same; a test keeps them
# equal): the seller's command line (`python -m shared …`), its entry point, and the local Stripe stand-in demo.
# Nothing a request runs imports them (tests/test_layout.py).
LEFT_OUT = ("shared/cli/", "shared/demo/", "shared/__main__.py")
# Files at the project root the function reads when it runs: the seller's Checkout options. vercel.json's
# includeFiles names the same (a test keeps them equal).
ROOT_FILES = ("checkout.toml",)
# The modules serverless.yml's functions name as handlers (a test keeps them equal); the smoke run imports each.
ENTRY_POINTS = ("functions.aws_lambda", "functions.aws_eventbridge", "functions.aws_schedule")
PRUNED_DIRS = {"__pycache__", "bin"}


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


def install_dependencies(target: Path, requirements: list[str], *, platform: str = PLATFORM,
                         python_version: str = PYTHON_VERSION, allow: frozenset[str] | set[str] = frozenset()) -> None:
    """pip-install `requirements` into `target` as wheels for `platform` and `python_version`; refuses a
    runtime-provided package (RUNTIME_PROVIDED) that came in as a dependency, unless `allow`ed."""
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


def left_out(name: str) -> bool:
    """Whether an archive name is one of ours that no function ships (LEFT_OUT)."""
    return name.startswith(LEFT_OUT)


def bundle_files(site: Path, root: Path = ROOT) -> dict[str, Path]:
    """Archive name → file: the installed dependencies and our own packages' sources, pruned, without bytecode."""
    files: dict[str, Path] = {}
    trees = [(site, site)] + [(root, root / package) for package in SOURCE_PACKAGES]
    for base, tree in trees:
        for path in sorted(tree.rglob("*")):
            relative = path.relative_to(base)
            name = relative.as_posix()
            if path.is_dir() or PRUNED_DIRS.intersection(relative.parts) or path.suffix in (".pyc", ".pyo"):
                continue
            if base is root and (path.suffix != ".py" or left_out(name)):
                continue
            files[name] = path
    for name in ROOT_FILES:
        if (root / name).is_file():
            files[name] = root / name
    return files


def ours(name: str) -> bool:
    """Whether an archive name belongs to our packages (shared/, functions/) rather than a dependency."""
    return name.split("/", 1)[0] in SOURCE_PACKAGES
