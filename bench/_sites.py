"""The installs the benchmarks run against, cached in `bench/.cache/` (safe to delete).

- the runtime site: `pip install --target` of requirements.txt alone, what Vercel installs for the
  function. Cold starts run there (`python -S`), not in the dev venv, whose extra packages change
  what the runtime imports (stripe imports httpx, and httpx click and pygments, when they are installed);
- Flask, for the baseline only, in a site of its own;
- dist/lambda.zip unpacked as Lambda unpacks it (no bytecode), and a copy with bytecode compiled.
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


def lambda_bundle(*, bytecode: bool) -> Path | None:
    """dist/lambda.zip unpacked; with `bytecode`, compiled as a build step could ship it."""
    if not LAMBDA_ZIP.exists():
        return None
    key = _digest(LAMBDA_ZIP.read_bytes())
    target = CACHE / f"lambda-{key}{'-pyc' if bytecode else ''}"
    if (target / ".complete").exists():
        return target
    for stale in CACHE.glob(f"lambda-*{'-pyc' if bytecode else ''}"):
        if stale.name.endswith("-pyc") == bytecode:
            shutil.rmtree(stale, ignore_errors=True)  # an older zip's
    with zipfile.ZipFile(LAMBDA_ZIP) as archive:
        archive.extractall(target)
    if bytecode:
        # unchecked-hash: valid whatever mtimes the unpacking gives the sources.
        compileall.compile_dir(str(target), quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    (target / ".complete").write_text("")
    return target
