"""Size: the Lambda zip, and what Vercel installs for the function.

    python -m bench.sizes [--no-build]

- dist/lambda.zip, built first by scripts/package_lambda.py when that script is there: its size in MB
  (target ≤ 5 MB), its packages by compressed size, and which of them neither request imports
  (each path is run once from the unpacked zip, and what it imported is compared with the zip);
- requirements.txt installed alone with `pip install --target` (what Vercel installs): MB on disk,
  with and without boto3 and what only boto3 needs, and the packages by size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import _sites
from ._common import PYTHON, ROOT, Services

MB = 1e6
TARGET_ZIP_MB = 5.0
PACKAGE_SCRIPT = ROOT / "scripts" / "package_lambda.py"
BUILD_TIMEOUT = 240
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def build_zip() -> str | None:
    """Run scripts/package_lambda.py; returns what it printed, or None when it is not there or failed."""
    if not PACKAGE_SCRIPT.exists():
        print("  scripts/package_lambda.py is not there yet: measuring dist/lambda.zip as it is, if any")
        return None
    try:
        done = subprocess.run([PYTHON, str(PACKAGE_SCRIPT)], cwd=ROOT, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"  ! package_lambda.py took over {BUILD_TIMEOUT} s; measuring the existing zip")
        return None
    if done.returncode != 0:
        print(f"  ! package_lambda.py failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return None
    return done.stdout.strip()


def top_level(name: str) -> str:
    """The import name an archive entry belongs to (`stripe/_x.py` → stripe, `six.py` → six)."""
    first = name.split("/", 1)[0]
    return first[:-3] if first.endswith(".py") else first


def zip_packages(path: Path) -> dict[str, tuple[int, int]]:
    """Top-level entry → (compressed, uncompressed) bytes; dist-info folders counted apart."""
    sizes: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            key = top_level(info.filename)
            packed, unpacked = sizes.get(key, (0, 0))
            sizes[key] = (packed + info.compress_size, unpacked + info.file_size)
    return dict(sorted(sizes.items(), key=lambda item: item[1][0], reverse=True))


def imported_from_bundle(bundle: Path) -> set[str] | None:
    """Every module either request imports, run from the unpacked zip (boto3 from the runtime site)."""
    from ._common import function_env
    from .cold_start import APP_CHILD, Variant, event_files, run_child

    runtime = _sites.runtime_site()
    if runtime is None:
        return None
    names: set[str] = set()
    with Services() as info, tempfile.TemporaryDirectory(prefix="bench-sizes-") as folder:
        env = function_env(info, PYTHONPATH=str(runtime), PYTHONDONTWRITEBYTECODE="1")
        for kind in ("create", "webhook"):
            variant = Variant(kind, kind, ["-S", "-c", APP_CHILD, "ours"], env, cwd=bundle, events=kind)
            _, _, detail, status, errors = run_child(variant, event_files(kind, info, folder))
            if status != 200 or not detail:
                print(f"  ! {kind} from the bundle answered {status}: {errors.strip()[-300:]}")
                return None
            names |= set(detail["modules"])
    return names


def report_zip(build_output: str | None) -> dict[str, float]:
    zip_path = _sites.LAMBDA_ZIP
    print("\nLambda bundle (dist/lambda.zip)")
    if build_output:
        print("  built by scripts/package_lambda.py: " + build_output.splitlines()[0])
    if not zip_path.exists():
        print("  no dist/lambda.zip")
        return {}
    size = zip_path.stat().st_size / MB
    packages = zip_packages(zip_path)
    unpacked = sum(u for _, u in packages.values()) / MB
    verdict = "met" if size <= TARGET_ZIP_MB else "MISSED"
    print(f"  {size:.2f} MB ({size * MB / 2**20:.2f} MiB) zipped, {unpacked:.1f} MB unzipped  "
          f"(target ≤ {TARGET_ZIP_MB:.0f} MB zipped): {verdict}")
    print("  by top-level entry, zipped / unzipped MB:")
    for name, (packed, full) in list(packages.items())[:12]:
        print(f"    {name:42} {packed / MB:6.2f} {full / MB:7.2f}")
    with zipfile.ZipFile(zip_path) as archive:
        shipped_pyc = sum(1 for name in archive.namelist() if name.endswith(".pyc"))
    print(f"  bytecode: {shipped_pyc} .pyc" + ("" if shipped_pyc else " (built by another Python than the runtime's: "
                                                                   "see package_lambda.py's warning)"))
    figures = {"lambda_zip_mb": size, "lambda_unzipped_mb": unpacked, "lambda_zip_pyc": shipped_pyc}
    local = _sites.local_zip(bytecode=True)
    if local is not None:
        with zipfile.ZipFile(local) as archive:
            count = sum(1 for name in archive.namelist() if name.endswith(".pyc"))
        local_mb = local.stat().st_size / MB
        figures["lambda_zip_this_python_mb"] = local_mb
        print(f"  built for this Python ({_sites.this_python()}) with the bytecode package_lambda.py ships: "
              f"{local_mb:.2f} MB zipped, {count} .pyc  (target ≤ {TARGET_ZIP_MB:.0f} MB): "
              f"{'met' if local_mb <= TARGET_ZIP_MB else 'MISSED'}")
    bundle = _sites.lambda_bundle(bytecode=False)
    modules = imported_from_bundle(bundle) if bundle else None
    if modules is not None and bundle is not None:
        used = {m.split(".")[0] for m in modules}
        idle = {name: sizes for name, sizes in packages.items()
                if not name.endswith(".dist-info") and name not in used}
        wasted = sum(p for p, _ in idle.values()) / MB
        print(f"  in the zip but imported by neither request ({wasted:.2f} MB zipped): "
              + (", ".join(f"{n} ({p / MB:.2f} MB)" for n, (p, _) in idle.items()) or "none"))
        figures["lambda_idle_mb"] = wasted
        if not shipped_pyc:  # estimates from the sources, which a zip with bytecode no longer holds all of
            figures.update(report_bytecode(bundle, modules))
    return figures


def module_files(bundle: Path, modules: set[str]) -> set[Path]:
    """The bundle's source files behind these module names."""
    files = set()
    for name in modules:
        base = bundle.joinpath(*name.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                files.add(candidate)
    return files


def zipped_size(files: dict[str, bytes]) -> int:
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name in sorted(files):
                archive.writestr(name, files[name])
        return handle.tell()


def report_bytecode(bundle: Path, modules: set[str]) -> dict[str, float]:
    """What shipping bytecode would cost in zip size (compiled here by this Python, as an estimate).

    Lambda unpacks the zip into a read-only /var/task, so Python cannot cache what it compiles:
    without .pyc in the zip, every cold start compiles every module it imports (see cold_start.py).
    """
    import importlib.util
    import py_compile

    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    sources = {p.relative_to(bundle).as_posix(): p for p in bundle.rglob("*")
               if p.is_file() and p.name != ".complete" and "__pycache__" not in p.parts}
    needed = module_files(bundle, modules)
    plain = {name: path.read_bytes() for name, path in sources.items()}
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as temp:
        def compiled(path: Path) -> bytes:
            target = Path(temp) / path.relative_to(bundle).with_suffix(".pyc")
            target.parent.mkdir(parents=True, exist_ok=True)
            py_compile.compile(str(path), cfile=str(target), doraise=True, invalidation_mode=mode)
            return target.read_bytes()

        def cached_name(name: str) -> str:
            return Path(importlib.util.cache_from_source(name)).as_posix()

        python = {name: path for name, path in sources.items() if name.endswith(".py")}
        all_pyc = {cached_name(name): compiled(path) for name, path in python.items()}
        used_pyc = {cached_name(name): all_pyc[cached_name(name)] for name, path in python.items() if path in needed}
        sourceless = {name: data for name, data in plain.items() if not name.endswith(".py")}
        sourceless.update({name[:-3] + ".pyc": all_pyc[cached_name(name)] for name in python})
        options = {
            "as built: sources only": plain,
            "sources + .pyc of every module": {**plain, **all_pyc},
            f"sources + .pyc of the {len(used_pyc)} modules the two paths import": {**plain, **used_pyc},
            "sourceless: .pyc in place of every .py": sourceless,
            f"sourceless for those {len(used_pyc)} modules, sources for the rest": {
                **{name: data for name, data in plain.items() if sources[name] not in needed},
                **{name[:-3] + ".pyc": all_pyc[cached_name(name)] for name, path in python.items() if path in needed}},
        }
        print("  bytecode options (zipped MB; .pyc compiled here by Python "
              f"{sys.version_info.major}.{sys.version_info.minor}, so an estimate for 3.13):")
        figures: dict[str, float] = {}
        for label, files in options.items():
            size = zipped_size(files) / MB
            figures[f"zip_option_{len(figures) + 1}_mb"] = size
            print(f"    {label:62} {size:6.2f} MB")
    return figures


def distributions(site: Path) -> dict[str, dict[str, object]]:
    """Each installed distribution: its bytes on disk (from RECORD, bytecode aside) and its requirements."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, dict[str, object]] = {}
    for info in site.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(errors="replace")
        name = canonicalize_name(next(line.split(":", 1)[1].strip() for line in metadata.splitlines()
                                      if line.startswith("Name:")))
        requires = set()
        for line in metadata.splitlines():
            if line.startswith("Requires-Dist:"):
                requirement = Requirement(line.split(":", 1)[1].strip())
                if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                    requires.add(canonicalize_name(requirement.name))
        size = 0
        for row in (info / "RECORD").read_text().splitlines():
            path = site / row.split(",", 1)[0]
            if "__pycache__" not in path.parts and path.is_file():
                size += path.stat().st_size
        found[name] = {"size": size, "requires": requires}
    return found


def closure(roots: set[str], dists: dict[str, dict[str, object]]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in dists:
            continue
        seen.add(name)
        stack.extend(dists[name]["requires"])  # type: ignore[arg-type]
    return seen


def report_vercel() -> dict[str, float]:
    from packaging.utils import canonicalize_name

    print("\nVercel function: requirements.txt installed alone (pip install --target), bytecode aside")
    site = _sites.runtime_site()
    if site is None:
        print("  ! pip could not install requirements.txt")
        return {}
    dists = distributions(site)
    roots: set[str] = set()
    for line in _sites.REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            roots.add(canonicalize_name(line.split("=")[0].split(">")[0].split("<")[0].split("[")[0].strip()))
    total = sum(int(d["size"]) for d in dists.values()) / MB  # type: ignore[call-overload]
    without = closure(roots - {"boto3"}, dists)
    only_boto = set(dists) - without
    rest = sum(int(dists[n]["size"]) for n in without) / MB  # type: ignore[call-overload]
    print(f"  {total:.1f} MB installed; without boto3 and what only it needs ({', '.join(sorted(only_boto))}): "
          f"{rest:.1f} MB")
    print("  by distribution, MB (* only boto3 needs it):")
    for name, dist in sorted(dists.items(), key=lambda item: int(item[1]["size"]), reverse=True)[:12]:  # type: ignore
        print(f"    {name:28} {int(dist['size']) / MB:6.1f}{' *' if name in only_boto else ''}")  # type: ignore
    return {"vercel_mb": total, "vercel_without_boto3_mb": rest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bundle-size benchmark (issue #7).")
    parser.add_argument("--no-build", action="store_true", help="measure dist/lambda.zip as it is")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    print("Sizes …", flush=True)
    output = None if args.no_build else build_zip()
    figures = report_zip(output)
    figures.update(report_vercel())
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
