"""The code's own standards, checked with the tests: ruff and mypy clean on every Python file — what ships, the
scripts that build it, the benchmarks and the tests themselves."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ["shared", "functions", "api", "scripts", "tests", "bench"]


def test_the_checks_cover_every_folder_holding_python():
    holding = {folder.name for folder in ROOT.iterdir()
               if folder.is_dir() and not folder.name.startswith(".") and next(folder.rglob("*.py"), None)}
    assert holding == set(FOLDERS)
    # `mypy` with no arguments (as an editor runs it) checks the same folders
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"] == FOLDERS


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *FOLDERS], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "mypy", *FOLDERS], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]
