"""The folder shows the architecture, and this test keeps it true: dependencies point one way.

    cli → web → events → checkout → orders → store → the top-level modules (settings, errors, …)

A module may import its own layer and the layers below it, never above. Nothing imports `cli/` or
`web/` but `functions/`, `api/` and `shared/__main__.py`. Imports inside functions count too: a lazy
import is still a dependency. Only the store spells a DynamoDB key prefix or index name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "shared"
LAYERS = ["", "store", "orders", "checkout", "events", "web", "cli"]  # "" is the top level, lowest
ENTRY_POINTS = ("functions", "api")


def layer_of(module: str) -> str:
    """`shared.orders.model` → `orders`; `shared.settings` → `` (top level); `shared.__main__` → `__main__`."""
    parts = module.split(".")
    if parts[1:2] == ["__main__"]:
        return "__main__"
    return parts[1] if len(parts) > 2 or (SHARED / parts[1]).is_dir() else ""


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every `shared…` module `path` imports, at the top or inside functions, resolved to absolute names."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from shared import telemetry` names a module; `from shared.x import name` names x.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            found |= {base} | {name for name in submodules if _is_module(name)}
    return {name for name in found if name == "shared" or name.startswith("shared.")}


def _is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def shared_modules() -> list[Path]:
    return sorted(SHARED.rglob("*.py"))


def test_the_layers_are_the_folders():
    folders = {p.name for p in SHARED.iterdir() if p.is_dir() and p.name != "__pycache__"}
    # A new folder takes its place in LAYERS (or in the exceptions below) before it holds code.
    assert folders <= set(LAYERS) | {"demo"}, folders - set(LAYERS)


@pytest.mark.parametrize("path", shared_modules(), ids=lambda p: str(p.relative_to(SHARED)))
def test_dependencies_point_down(path: Path):
    here = layer_of(module_name(path)) if path != SHARED / "__init__.py" else ""
    if here in ("__main__", "demo"):
        return  # the entry point of the command line; the demo is a local tool above everything
    rank = LAYERS.index(here)
    upward = sorted(name for name in imports_of(path)
                    if name != "shared" and LAYERS.index(layer_of(name)) > rank)
    assert not upward, f"{path.relative_to(ROOT)} ({here or 'top level'}) imports a layer above it: {upward}"


def test_the_deployed_entry_points_never_import_the_command_line():
    # Within shared/, the layer order already keeps web/ and cli/ to those above them.
    for folder in ENTRY_POINTS:
        for path in (ROOT / folder).rglob("*.py"):
            assert not any(layer_of(name) == "cli" for name in imports_of(path) if name != "shared"), path


def test_nothing_imports_the_demo_but_python_m_shared():
    """The demo (the Stripe stand-in with it) is a local tool above every layer: no module of shared/ outside it,
    and no deployed entry point, imports it. `python -m shared` alone hands it to the command line."""
    importers = [path for path in [*shared_modules(), *(p for f in ENTRY_POINTS for p in (ROOT / f).rglob("*.py"))]
                 if not path.is_relative_to(SHARED / "demo") and path != SHARED / "__main__.py"
                 and any(layer_of(name) == "demo" for name in imports_of(path) if name != "shared")]
    assert importers == []
    assert any(layer_of(name) == "demo" for name in imports_of(SHARED / "__main__.py"))  # the check sees imports


def test_the_direction_check_catches_an_upward_import():
    """The check itself works: a store module importing the web layer is flagged."""
    fake = SHARED / "store" / "_layout_probe.py"
    fake.write_text("def f():\n    from ..web import app\n    return app\n")
    try:
        names = imports_of(fake)
        assert "shared.web.app" in names and layer_of("shared.web.app") == "web"
        assert LAYERS.index("web") > LAYERS.index(layer_of(module_name(fake)))
    finally:
        fake.unlink()


KEY_LITERALS = re.compile(r"""["'](?:ORDER|PAYMENT|SUB|EVENT|RATE|EMAIL|STOCK|RESERVATION)#"""
                          r"""|["']by_(?:email|created)["']""")


def test_only_the_store_spells_keys_and_index_names():
    offenders = [str(p.relative_to(ROOT)) for p in shared_modules()
                 if p.parent.name != "store" and KEY_LITERALS.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
