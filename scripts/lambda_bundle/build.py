"""The whole build: install the dependencies, pick the files, add bytecode, write the zip."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .archive import write_zip
from .bytecode import Bytecode, add_bytecode, bytecode_problem
from .contents import PYTHON_VERSION, ROOT, bundle_files, install_dependencies, runtime_requirements

OUTPUT = ROOT / "dist" / "lambda.zip"  # serverless.yml's package.artifact
SIZE_BUDGET = 5_000_000  # bytes, zipped (bench/sizes.py's target)


@dataclass
class Build:
    sizes: dict[str, int]  # archive name → uncompressed bytes
    python_version: str
    bytecode: Bytecode | None  # None: built without

    @property
    def unzipped(self) -> int:
        return sum(self.sizes.values())


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
