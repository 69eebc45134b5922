"""Reading `python -X importtime` output: the import tree, the top modules, and import chains."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    depth: int
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    def chain(self) -> list[str]:
        """The modules whose import pulled this one in, outermost first."""
        names: list[str] = []
        node: Node | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return names[::-1]


def parse(stderr: str) -> list[Node]:
    """Every import, in the order Python finished them; each knows the import that caused it.

    Python prints a module when its import ends, after the modules it imported, indented two
    spaces per level: a line at depth d adopts the pending lines at depth d + 1.
    """
    nodes: list[Node] = []
    pending: dict[int, list[Node]] = {}
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        depth = len(match.group(3)) // 2
        node = Node(match.group(4), int(match.group(1)), int(match.group(2)), depth)
        node.children = pending.pop(depth + 1, [])
        for child in node.children:
            child.parent = node
        pending.setdefault(depth, []).append(node)
        nodes.append(node)
    return nodes


def top(nodes: Iterable[Node], n: int = 15) -> list[Node]:
    return sorted(nodes, key=lambda node: node.cumulative_us, reverse=True)[:n]


def roots(nodes: Iterable[Node]) -> list[Node]:
    return [node for node in nodes if node.parent is None]


def package_totals(nodes: Iterable[Node]) -> dict[str, int]:
    """Self time summed by top-level package: where the time goes, without double counting."""
    totals: dict[str, int] = {}
    for node in nodes:
        package = node.name.split(".")[0]
        totals[package] = totals.get(package, 0) + node.self_us
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


def first_import(nodes: Iterable[Node], prefix: str) -> Node | None:
    """The outermost import of `prefix` (or a submodule of it): the one that brought it in."""
    best: Node | None = None
    for node in nodes:
        if node.name == prefix or node.name.startswith(prefix + "."):
            candidate = node
            while candidate.parent is not None and (candidate.parent.name == prefix
                                                    or candidate.parent.name.startswith(prefix + ".")):
                candidate = candidate.parent
            if best is None or candidate.cumulative_us > best.cumulative_us:
                best = candidate
    return best


def format_chain(node: Node) -> str:
    return " → ".join(node.chain())
