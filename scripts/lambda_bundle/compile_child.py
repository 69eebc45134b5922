"""Compile sources to unchecked-hash .pyc, in a child interpreter: bytecode.compile_bytecode starts it as

    python -S -B -m lambda_bundle.compile_child < JOBS

from scripts/, with PYTHONHASHSEED=0 (so not -E, which would ignore it). JOBS is a JSON list of
[source, target, shown] triples, compiled in that order; tracebacks name `shown`. marshal's output depends on
the compiling process's state (which strings are shared), so a fresh interpreter with a fixed hash seed,
given the files in a fixed order, makes the same bytes from the same sources.
"""

from __future__ import annotations

import json
import py_compile
import sys


def main() -> int:
    for source, target, shown in json.load(sys.stdin):
        py_compile.compile(source, cfile=target, dfile=shown, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
