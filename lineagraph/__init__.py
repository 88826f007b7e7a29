"""lineagraph: a lineage store for Python computations, built natively on Neo4j.

``GraphLineaDB`` is the Neo4j counterpart of LineaPy's ``RelationalLineaDB``; the
models below are what a session is written with, by hand (``write_session`` of a
``SessionGraph``, or ``write_*`` then ``commit()``) or by a recorder.
"""

__version__ = "0.1.0"

from . import _driver  # noqa: E402,F401  (first: the driver without NumPy and pandas)

from .errors import (  # noqa: E402
    CorruptBlobError,
    DuplicateError,
    LineagraphError,
    NotFoundError,
    StoreUnavailableError,
)
from .models import (  # noqa: E402
    Artifact,
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    JupyterCell,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    MutateNode,
    NodeValue,
    PositionalArgument,
    SessionContext,
    SessionGraph,
    SessionType,
    SourceCode,
    SourceLocation,
)
from .store import CommitStats, GraphLineaDB, SessionWrite, parse_artifact_version  # noqa: E402
from .recorder.api import artifact_store, db, delete, file_system, get, save  # noqa: E402

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
