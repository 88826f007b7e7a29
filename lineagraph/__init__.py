"""lineagraph: a lineage store for Python computations, built natively on Neo4j.

``GraphLineaDB`` is the Neo4j counterpart of LineaPy's ``RelationalLineaDB``.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    CorruptBlobError,
    DuplicateError,
    LineagraphError,
    NotFoundError,
    StoreUnavailableError,
)
from .store import GraphLineaDB, parse_artifact_version  # noqa: E402
from .recorder.api import artifact_store, db, delete, file_system, get, save  # noqa: E402

__all__ = [
    "GraphLineaDB",
    "parse_artifact_version",
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
