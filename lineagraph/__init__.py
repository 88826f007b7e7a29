"""lineagraph: a lineage store for Python computations, built natively on Neo4j.

``GraphLineaDB`` is the Neo4j counterpart of LineaPy's ``RelationalLineaDB``; the
models below are what a session is written with, by hand (``write_session`` of a
``SessionGraph``, or ``write_*`` then ``commit()``) or by a recorder.
"""

__version__ = "0.1.0"

import importlib
import importlib.util
from typing import TYPE_CHECKING

# What ``lineagraph`` offers, by the module that defines it, imported on first use (PEP
# 562): ``import lineagraph`` and the modules that need none of it (``lineagraph run``'s
# preparation, the CLI's help) stay light; the store's modules import the Neo4j driver
# through lineagraph._driver, without NumPy and pandas.
_EXPORTS = {
    **dict.fromkeys(["GraphLineaDB", "CommitStats", "SessionWrite", "parse_artifact_version"],
                    "store"),
    **dict.fromkeys(["SessionGraph", "SessionContext", "SessionType", "Execution", "SourceCode",
                     "SourceLocation", "JupyterCell", "ImportNode", "CallNode",
                     "PositionalArgument", "KeywordArgument", "LiteralNode", "LookupNode",
                     "MutateNode", "GlobalNode", "IfNode", "ElseNode", "NodeValue",
                     "Artifact"], "models"),
    **dict.fromkeys(["LineagraphError", "NotFoundError", "DuplicateError", "CorruptBlobError",
                     "StoreUnavailableError"], "errors"),
    **dict.fromkeys(["save", "get", "delete", "artifact_store", "file_system", "db"],
                    "recorder.api"),
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        # a submodule, as an eager package had them all after `import lineagraph`
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'lineagraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .errors import (CorruptBlobError, DuplicateError, LineagraphError, NotFoundError,
                         StoreUnavailableError)
    from .models import (Artifact, CallNode, ElseNode, Execution, GlobalNode, IfNode,
                         ImportNode, JupyterCell, KeywordArgument, LiteralNode, LookupNode,
                         MutateNode, NodeValue, PositionalArgument, SessionContext,
                         SessionGraph, SessionType, SourceCode, SourceLocation)
    from .recorder.api import artifact_store, db, delete, file_system, get, save
    from .store import CommitStats, GraphLineaDB, SessionWrite, parse_artifact_version

__all__ = [
    "GraphLineaDB",
    "CommitStats",
    "SessionWrite",
    "parse_artifact_version",
    # what a session is written with
    "SessionGraph",
    "SessionContext",
    "SessionType",
    "Execution",
    "SourceCode",
    "SourceLocation",
    "JupyterCell",
    "ImportNode",
    "CallNode",
    "PositionalArgument",
    "KeywordArgument",
    "LiteralNode",
    "LookupNode",
    "MutateNode",
    "GlobalNode",
    "IfNode",
    "ElseNode",
    "NodeValue",
    "Artifact",
    # errors
    "LineagraphError",
    "NotFoundError",
    "DuplicateError",
    "CorruptBlobError",
    "StoreUnavailableError",
    "save",
    "get",
    "delete",
    "artifact_store",
    "file_system",
    "db",
]


def load_ipython_extension(ipython) -> None:
    """``%load_ext lineagraph``: record this IPython or Jupyter session (docs/notebooks.md)."""
    from .recorder.ipython import load
    load(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext lineagraph``: stop recording; what was recorded is committed."""
    from .recorder.ipython import unload
    unload(ipython)
