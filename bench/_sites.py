"""The installs the benchmarks run against, cached in `bench/.cache/` (safe to delete).

- the runtime site: `pip install --target` of requirements.txt alone, what Vercel installs for the
  function. Cold starts run there (`python -S`), not in the dev venv, whose extra packages change
  what the runtime imports (stripe imports httpx, and httpx click and pygments, when they are installed);
- Flask, for the baseline only, in a site of its own;
- dist/lambda.zip unpacked as Lambda unpacks it, and a copy with every module compiled;
- zips built by scripts/package_lambda.py for *this* Python (whose bytecode this Python can use; the
  deployed zip's is for the runtime's): with the bytecode it ships, and with none.
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from ._common import PYTHON, ROOT

CACHE = Path(__file__).resolve().parent / ".cache"
REQUIREMENTS = ROOT / "requirements.txt"
FLASK = "Flask==3.1.3"  # the version the dev venv has (moto's server brings it)
LAMBDA_ZIP = ROOT / "dist" / "lambda.zip"
PACKAGE_SCRIPT = ROOT / "scripts" / "package_lambda.py"
PACKAGE_MODULES = ROOT / "scripts" / "lambda_bundle"  # what the script runs
PIP_TIMEOUT = 240


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def _pip_target(target: Path, args: list[str]) -> Path | None:
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    print(f"  installing into {target.relative_to(ROOT)} (pip install --target {' '.join(args)}) …", flush=True)
    try:
        subprocess.run([PYTHON, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--no-compile",
                        "--target", str(target), *args], check=True, timeout=PIP_TIMEOUT)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"  pip failed ({exc}); falling back", file=sys.stderr)
        shutil.rmtree(target, ignore_errors=True)
        return None
    (target / ".complete").write_text("")
    return target


def runtime_site() -> Path | None:
    """requirements.txt installed alone, for this interpreter; None when pip cannot install it."""
    key = _digest(REQUIREMENTS.read_bytes(), sys.version.encode())
    return _pip_target(CACHE / f"runtime-{key}", ["-r", str(REQUIREMENTS)])


def flask_site() -> Path | None:
    key = _digest(FLASK.encode(), sys.version.encode())
    return _pip_target(CACHE / f"flask-{key}", [FLASK])


def lambda_bundle(*, bytecode: bool, zip_path: Path = LAMBDA_ZIP, name: str = "dist") -> Path | None:
    """`zip_path` unpacked, as Lambda unpacks it; with `bytecode`, every module compiled besides (the most
    bytecode could do). Cached per zip content under bench/.cache/lambda-<name>-…"""
    if not zip_path.exists():
        return None
    key = _digest(zip_path.read_bytes())
    suffix = "-pyc" if bytecode else ""
    target = CACHE / f"lambda-{name}-{key}{suffix}"
    if (target / ".complete").exists():
        return target
    for stale in CACHE.glob(f"lambda-{name}-*"):
        if stale.is_dir() and stale.name.endswith("-pyc") == bytecode:
            shutil.rmtree(stale, ignore_errors=True)  # an older zip's
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    if bytecode:
        # unchecked-hash: valid whatever mtimes the unpacking gives the sources.
        compileall.compile_dir(str(target), quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    (target / ".complete").write_text("")
    return target


def this_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def local_zip(*, bytecode: bool) -> Path | None:
    """A zip from scripts/package_lambda.py for this Python (`--python-version` this one), with the bytecode it
    ships or with none; rebuilt when requirements.txt, the build (the script and scripts/lambda_bundle/), shared/
    or functions/ change."""
    if not PACKAGE_SCRIPT.exists():
        return None
    sources = sorted([REQUIREMENTS, PACKAGE_SCRIPT, *PACKAGE_MODULES.glob("*.py"), *ROOT.glob("shared/**/*.py"),
                      *ROOT.glob("functions/*.py")])
    key = _digest(sys.version.encode(), str(bytecode).encode(), *(p.read_bytes() for p in sources))
    name = f"lambda-py{this_python().replace('.', '')}{'' if bytecode else '-nopyc'}.zip"
    output, stamp = CACHE / name, CACHE / (name + ".key")
    if output.exists() and stamp.exists() and stamp.read_text() == key:
        return output
    print(f"  building {output.relative_to(ROOT)} (package_lambda.py --python-version {this_python()}"
          f"{'' if bytecode else ' --no-bytecode'}) …", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    argv = [PYTHON, str(PACKAGE_SCRIPT), "--python-version", this_python(), "--output", str(output)]
    try:
        done = subprocess.run(argv + ([] if bytecode else ["--no-bytecode"]), cwd=ROOT, capture_output=True,
                              text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print("  ! package_lambda.py took too long", file=sys.stderr)
        return None
    if done.returncode != 0:
        print(f"  ! package_lambda.py failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    stamp.write_text(key)
    return output
