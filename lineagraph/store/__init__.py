"""GraphLineaDB: LineaPy's ``RelationalLineaDB`` API on Neo4j.

Same method names, arguments and meanings as ``lineapy.db.db.RelationalLineaDB``,
taking and returning the pydantic models of :mod:`lineagraph.models`.

Writes are a unit of work: ``write_*`` calls are buffered and reach Neo4j together at
``commit()``, in batched ``UNWIND`` statements inside one managed transaction (retried
on transient errors); a unit of more than ``transaction_nodes`` nodes in several
bounded transactions, invisible to readers until the last one publishes it whole.
Reads see the caller's own pending writes. A failed commit stores nothing of its unit,
discards it (as SQLAlchemy's rollback does) and raises.
``write_session`` writes a whole :class:`~lineagraph.models.SessionGraph` in one commit.

Deletes (``delete_artifact_by_name``, ``delete_node_value_from_db``) first commit what is
pending, then run in their own transaction; blobs that nothing references any more are
removed from disk only after the graph no longer points at them.

The package, by concern:

    __init__   GraphLineaDB: construction, named queries on its driver, close
    writes     write_* (buffered), save_artifact, save_value, write_session
    validate   what a write refuses before anything is sent
    unit       the buffered unit and its transaction body (checks, batched UNWIND)
    staging    a unit larger than one transaction: bounded transactions, then publication
    commit     commit() and its retry ladder
    reads      the readers (pending writes first, then the read cache, then Neo4j)
    deletes    deletes and the one blob garbage collector
    cache      the one read cache (LRU)
    version    artifact versions and references
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._driver import neo4j  # the driver without NumPy and pandas

from .. import config, query
from ..blobs import BlobStore
from ..connection import open_driver
from ..environment import resolve_settings
from ..schema import ensure_schema
from .cache import LRU
from .commit import SAVE_ATTEMPTS, CommitMixin
from .deletes import DeletesMixin, remove_unreferenced_blobs
from .reads import ReadsMixin
from .unit import CommitStats, Unit
from .version import (
    ARTIFACT_MAX_VERSION,
    ARTIFACT_MIN_VERSION,
    ArtifactRef,
    parse_artifact_ref,
    parse_artifact_version,
)
from .writes import SessionWrite, WritesMixin, check_session_graph

__all__ = ["GraphLineaDB", "CommitStats", "SessionWrite", "parse_artifact_version",
           "parse_artifact_ref", "ArtifactRef", "remove_unreferenced_blobs",
           "check_session_graph", "ARTIFACT_MIN_VERSION", "ARTIFACT_MAX_VERSION",
           "SAVE_ATTEMPTS", "DEFAULT_BATCH_SIZE", "DEFAULT_CACHE_SIZE"]

DEFAULT_BATCH_SIZE = 5000
DEFAULT_CACHE_SIZE = 200_000


class GraphLineaDB(WritesMixin, CommitMixin, ReadsMixin, DeletesMixin):
    """The lineage store on Neo4j. The driver is passed in (or built by
    :meth:`from_environment`, in which case ``close()`` releases it)."""

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None = config.DEFAULT_DATABASE,
        blobs: BlobStore | Path | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        owns_driver: bool = False,
        cache_size: int = DEFAULT_CACHE_SIZE,
        transaction_nodes: int | None = None,
        write_workers: int | None = None,
    ):
        self.driver = driver
        self.database = database
        if blobs is None:
            blobs = config.home_dir() / "blobs"
        self.blobs = blobs if isinstance(blobs, BlobStore) else BlobStore(Path(blobs))
        self.batch_size = batch_size
        # a unit with more nodes is written in transactions of at most this many and
        # published at once (lineagraph.store.staging): commits need bounded memory
        self.transaction_nodes = transaction_nodes or config.transaction_nodes()
        # how many of those transactions run at once
        self.write_workers = config.write_workers() if write_workers is None else write_workers
        if not (isinstance(self.write_workers, int)
                and 1 <= self.write_workers <= config.MAX_WRITE_WORKERS):
            raise ValueError(f"write_workers={write_workers!r}: expected a whole number "
                             f"from 1 to {config.MAX_WRITE_WORKERS}")
        # called after each transaction of such a unit with (step, how many so far), one
        # call at a time, by the thread that ran the transaction (with more than one
        # write worker, a worker thread's for the nodes and edges)
        self.on_transaction = None
        self._owns_driver = owns_driver
        self._unit = Unit()
        self.last_commit = CommitStats()
        # What never changes once written (nodes, sessions, source code) and this
        # instance has read or committed is served again without a round trip.
        self._cache = LRU(cache_size)

    @classmethod
    def from_environment(
        cls,
        uri: str | None = None,
        username: str | None = None,
        password: str | None = None,
        database: str | None = None,
        blobs: BlobStore | Path | str | None = None,
    ) -> "GraphLineaDB":
        """Connect with explicit settings, else ``NEO4J_*``, else the local server."""
        settings = resolve_settings(uri, username, password, database)
        return cls(open_driver(settings), database=settings.database, blobs=blobs,
                   owns_driver=True)

    def ensure_schema(self) -> int:
        """Create constraints and indexes (idempotent); return the schema version."""
        return ensure_schema(self.driver, self.database)

    # -- named queries on this store's driver and database (see lineagraph.query) ---------
    def read_all(self, name: str, /, **params: Any) -> list[dict]:
        """Every record of the named read query, as dicts."""
        return query.read_all(self.driver, self.database, name, **params)

    def read_rows(self, name: str, /, **params: Any) -> list[tuple]:
        """Every record of the named read query, as tuples of its columns."""
        return query.read_rows(self.driver, self.database, name, **params)

    def read_one(self, name: str, /, **params: Any) -> dict | None:
        """The first record of the named read query, or None."""
        return query.read_one(self.driver, self.database, name, **params)

    def read_value(self, name: str, /, **params: Any) -> Any:
        """The first column of the first record of the named read query, or None."""
        return query.read_value(self.driver, self.database, name, **params)

    def write(self, name: str, /, **params: Any) -> list[dict]:
        """The named write query in its own transaction (pending writes are not sent)."""
        return query.write(self.driver, self.database, name, **params)

    def write_many(self, steps: list[tuple[str, query.Params]]) -> list[list[dict]]:
        """Several named write queries in one transaction."""
        return query.write_many(self.driver, self.database, steps)

    @property
    def cache(self) -> LRU:
        """The instance's read cache (slicing keeps its source code there too)."""
        return self._cache

    def clear_cache(self) -> None:
        """Forget what was read; the next reads go to Neo4j."""
        self._cache.clear()

    def close(self) -> None:
        """Commit what is pending, then release the driver if we built it."""
        try:
            self.commit()
        finally:
            if self._owns_driver:
                self.driver.close()

    def __enter__(self) -> "GraphLineaDB":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            self._unit = Unit()  # an exception discards the pending unit
            if self._owns_driver:
                self.driver.close()
        else:
            self.close()
