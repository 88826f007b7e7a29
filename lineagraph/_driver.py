"""The Neo4j driver, imported without its optional NumPy, pandas and PyArrow support.

``import neo4j`` imports NumPy and pandas when they are installed (``neo4j._optional_deps``),
so that their values can be query parameters and results can become DataFrames. lineagraph
sends only Python's own values and never asks for a DataFrame, and those two imports were
0.45 s of the 1.1 s ``import lineagraph`` took (``python -X importtime``), paid by every
``lineagraph`` command and by ``lineagraph run`` before a script that may never use them. So the driver is imported with them hidden: it then works as where they are not
installed, which it supports. A program that imports NumPy or pandas itself gets them as
always (nothing of theirs is left behind), and a driver imported before lineagraph is
left as it is. Every module of lineagraph that uses the driver imports it from here
(``from ._driver import neo4j``), before any ``from neo4j import ...`` of its own.
"""

from __future__ import annotations

import sys

# what neo4j._optional_deps tries to import; None in sys.modules makes an import fail
_OPTIONAL = ("numpy", "pandas", "pyarrow")


def import_lean() -> None:
    if "neo4j" in sys.modules:
        return
    hidden = [name for name in _OPTIONAL if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import neo4j  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


import_lean()
import neo4j  # noqa: E402  (imported above, lean): the modules that use it import it from here
