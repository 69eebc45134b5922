"""Which bytecode the zip ships, and compiling it.

Lambda unpacks the zip into a read-only /var/task, so Python cannot cache what it compiles: without .pyc in the
zip, every cold start compiles every module it imports again (+258 ms on create-session, +154 ms on a webhook:
bench/cold_start.py). .pyc for everything would double the zip (~10 MB), so the build runs the bundle once
(smoke.run_requests) and ships bytecode for the third-party modules that run: a module's source is replaced by a
sourceless `module.pyc` beside where `module.py` was (Python imports that when there is no .py), unless the
module reads its own source (anyio's lazy importer). Ours — every module of `shared/` and `functions/` the zip
holds, which is what the functions can import, the seller's tools being left out by folder (contents.LEFT_OUT) —
keep their sources (readable tracebacks) with `__pycache__/<name>.cpython-3XY.pyc` beside them. Every .pyc has
an unchecked hash: Python uses it without comparing timestamps (a zip's are fixed) or reading the source, and its
header holds a hash of the source, not a time.

Bytecode belongs to one Python minor version and cannot be made by another: it is only built when this
interpreter is the target version (bytecode_problem).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .contents import ours
from .smoke import SCRIPTS, bundle_modules, compiled_from_source, run_requests

# What a build without bytecode costs each cold start, measured by bench/cold_start.py.
NO_BYTECODE_COST = "about +258 ms on create-session and +154 ms on a webhook"
# Modules that read their own source at import: anyio's lazy importer parses its package's __init__ with
# inspect.getsource, and without the source falls back to importing every submodule. They keep their
# sources and get __pycache__ bytecode, as ours do. (The smoke test catches any other: see smoke.smoke.)
READS_OWN_SOURCE = re.compile(r"^(?!\s*def )[^#\n]*\binstall_lazy_importer\(\)", re.M)


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


def compile_bytecode(jobs: dict[str, tuple[str, Path]], target: Path) -> dict[str, Path]:
    """Compile each source into target/<pyc name>, with unchecked hashes (compile_child.py); `jobs` maps pyc
    name → (source's archive name, source file). Tracebacks name the archive path. Returns pyc name → compiled
    file."""
    listed = [[str(source), str(target / name), shown] for name, (shown, source) in sorted(jobs.items())]
    for _, output, _ in listed:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}
    subprocess.run([sys.executable, "-S", "-B", "-m", "lambda_bundle.compile_child"], input=json.dumps(listed),
                   env=env, cwd=SCRIPTS, check=True, text=True, timeout=300)
    return {name: target / name for name in jobs}


@dataclass
class Bytecode:
    sourceless: list[str] = field(default_factory=list)  # third-party modules shipped as module.pyc only
    cached: list[str] = field(default_factory=list)  # sources kept, with __pycache__/<name>.<tag>.pyc: ours, and
    kept: list[str] = field(default_factory=list)  # …the third-party ones that read their own source
    imported: int = 0  # bundle modules the request paths imported
    with_boto3: bool = True  # whether the run had boto3 (it imports some of the bundle's modules)


def add_bytecode(files: dict[str, Path], workdir: Path) -> tuple[dict[str, Path], Bytecode]:
    """Run the bundle `files` make, and add bytecode for what its request paths import and for all of ours (see
    the module's docstring). Returns the files to ship and what was compiled."""
    stage = workdir / "stage"
    for name, path in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, stage / name)
    report = run_requests(stage)
    # What the run compiled is what a cold start compiles: the modules it imported, and those it tried to
    # (urllib3.contrib.socks, whose import fails without PySocks, is compiled on every cold start all the same).
    imported = set(compiled_from_source(report, stage))
    imported |= {name for name in bundle_modules(report, stage) if name.endswith(".py")}
    own = sorted(name for name in files if ours(name) and name.endswith(".py"))
    theirs = sorted(name for name in imported if not ours(name) and name in files)
    kept = [name for name in theirs if READS_OWN_SOURCE.search(files[name].read_text("utf-8", errors="replace"))]
    sourceless = [name for name in theirs if name not in kept]
    tag = sys.implementation.cache_tag
    jobs: dict[str, tuple[str, Path]] = {}
    for name in own + kept:
        folder, _, module = name.rpartition("/")
        jobs[f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc"] = (name, files[name])
    for name in sourceless:
        jobs[name[:-3] + ".pyc"] = (name, files[name])
    compiled = compile_bytecode(jobs, workdir / "bytecode")
    shipped = {name: path for name, path in files.items() if name not in sourceless}
    shipped.update(compiled)
    return shipped, Bytecode(sourceless=sourceless, cached=own, kept=kept, imported=len(imported),
                             with_boto3=report["with_boto3"])
