"""GraphLineaDB: LineaPy's ``RelationalLineaDB`` API on Neo4j.

Same method names, arguments and meanings as ``lineapy.db.db.RelationalLineaDB``,
taking and returning the pydantic models of :mod:`lineagraph.models`.

Writes are a unit of work: ``write_*`` calls are buffered and reach Neo4j together at
``commit()``, in batched ``UNWIND`` statements inside one managed transaction (retried
on transient errors). Reads see the caller's own pending writes. A failed commit stores
nothing of its unit, discards it (as SQLAlchemy's rollback does) and raises.

Deletes (``delete_artifact_by_name``, ``delete_node_value_from_db``) first commit what is
pending, then run in their own transaction; blobs that nothing references any more are
removed from disk only after the graph no longer points at them.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import random
import re
import uuid
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import BaseModel

from . import config
from .blobs import BlobInfo, BlobStore
from .connection import open_driver, resolve_settings
from .errors import (
    ConfigurationError,
    CorruptBlobError,
    DuplicateError,
    LineagraphError,
    NotFoundError,
    StoreUnavailableError,
    ValueNotFoundError,
)
from .mapping import (
    DEPENDENCY_TYPES,
    NODE_LABELS,
    artifact_from_props,
    artifact_to_props,
    brief,
    check_datetimes,
    check_keys,
    check_text,
    complete_captions,
    execution_to_props,
    node_to_row,
    node_value_from_props,
    node_value_to_props,
    record_to_node,
    session_from_props,
    session_to_props,
    source_code_from_props,
    source_code_to_props,
)
from .models import (
    Artifact,
    BaseNode,
    Execution,
    ImportNode,
    LineaID,
    NodeValue,
    SessionContext,
    SessionType,
    SourceCode,
)
from .pickletype import pickle_type
from .queries import queries
from .schema import ensure_schema

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5000
DEFAULT_CACHE_SIZE = 200_000
ARTIFACT_MIN_VERSION = 0
ARTIFACT_MAX_VERSION = 2**63 - 1
# save_artifact: how often a commit is tried again when another process took the
# version it computed (each try reads the latest version afresh)
SAVE_ATTEMPTS = 100


def parse_artifact_version(version: Any) -> Union[int, str]:
    """LineaPy's rules: an int >= 0 (ints, floats and numeric strings are cast), or
    the strings ``"all"`` / ``"latest"`` (any case)."""
    err_msg = (f"Version must be an int >={ARTIFACT_MIN_VERSION} or a string that is "
               "'all' or 'latest'")
    if isinstance(version, bool):
        raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")
    if isinstance(version, str):
        lowered = version.lower()
        if lowered in ("all", "latest"):
            return lowered
        try:
            version = int(float(lowered))
        except (ValueError, OverflowError):
            raise ValueError(
                f"Version string {version!r} could not be casted into a valid version "
                f"int\n{err_msg}"
            ) from None
    if isinstance(version, float):
        if version != version or version in (float("inf"), float("-inf")):
            raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")
        version = int(version)
    if isinstance(version, int):
        if version > ARTIFACT_MAX_VERSION:  # Neo4j integers are 64-bit
            raise ValueError(f"Version value {version} must be <={ARTIFACT_MAX_VERSION}")
        if version >= ARTIFACT_MIN_VERSION:
            return version
        raise ValueError(f"Version value {version} must be >={ARTIFACT_MIN_VERSION}\n{err_msg}")
    raise ValueError(f"Version {version!r} could not be parsed\n{err_msg}")


@dataclass
class CommitStats:
    """What the last commit sent: statements (round trips), rows and time."""

    statements: int = 0
    nodes: int = 0
    edges: int = 0
    seconds: float = 0.0
    attempts: int = 1  # > 1 when save_artifact lost a race for a version and tried again
    saved: list[Artifact] = field(default_factory=list)  # what save_artifact stored


@dataclass
class _Unit:
    """Writes buffered since the last commit, keyed as the store keys them."""

    executions: dict[str, Execution] = field(default_factory=dict)
    contexts: dict[str, SessionContext] = field(default_factory=dict)
    source_codes: dict[str, SourceCode] = field(default_factory=dict)
    nodes: dict[str, BaseNode] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)  # node_to_row of each node
    node_values: dict[tuple[str, str], tuple[NodeValue, BlobInfo]] = field(default_factory=dict)
    python_types: dict[tuple[str, str], str | None] = field(default_factory=dict)  # by value
    artifacts: dict[tuple[str, int], Artifact] = field(default_factory=dict)
    # save_artifact: versions chosen inside the commit's transaction
    # (artifact, save id): the id recognises the save if its commit is run again
    next_versions: list[tuple[Artifact, str]] = field(default_factory=list)
    variables: dict[str, list[str]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not any((self.executions, self.contexts, self.source_codes, self.nodes,
                        self.node_values, self.artifacts, self.next_versions,
                        self.variables))


class _LRU:
    """A bounded read cache of models keyed by (kind, id)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def get(self, kind: str, key: str) -> Any:
        item = self._items.get((kind, key))
        if item is None:
            return None
        self._items.move_to_end((kind, key))
        # callers may mutate what they get: models are copied; node records are plain
        # data that is never handed out (nodes are built anew from them)
        return item.model_copy(deep=True) if isinstance(item, BaseModel) else item

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.size <= 0:
            return
        self._items[(kind, key)] = (value.model_copy(deep=True) if isinstance(value, BaseModel)
                                    else value)
        self._items.move_to_end((kind, key))
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def _batches(rows: list, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


class GraphLineaDB:
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
    ):
        self.driver = driver
        self.database = database
        if blobs is None:
            blobs = config.home_dir() / "blobs"
        self.blobs = blobs if isinstance(blobs, BlobStore) else BlobStore(Path(blobs))
        self.batch_size = batch_size
        self._owns_driver = owns_driver
        self._unit = _Unit()
        self.last_commit = CommitStats()
        # LineaPy nodes, sessions and source code never change once written (a node is
        # only ever rewritten with the same content), so what this instance has read or
        # committed can be served again without a round trip. Commits refresh it.
        self._cache = _LRU(cache_size)

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

    # -- plumbing -------------------------------------------------------------------------
    def _read(self, name: str, /, **params: Any) -> list[dict]:
        try:
            records, _, _ = self.driver.execute_query(
                queries()[name].text, params, database_=self.database,
                routing_=neo4j.RoutingControl.READ,
            )
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as err:
            raise _driver_error(err, f"reading from Neo4j ({name})") from None
        except OverflowError as err:  # an int beyond Neo4j's 64 bits, e.g. a version
            raise ValueError(f"cannot ask Neo4j ({name}): {err}") from None
        return [record.data() for record in records]

    def _session(self) -> neo4j.Session:
        # One bookmark manager for reads (execute_query) and writes, so that on a
        # cluster a read after a commit sees that commit.
        return self.driver.session(
            database=self.database,
            bookmark_manager=self.driver.execute_query_bookmark_manager,
        )

    def _write(self, name: str, /, **params: Any) -> list[dict]:
        return self._write_many([(name, params)])[0]

    def _write_many(self, steps: list[tuple[str, dict]]) -> list[list[dict]]:
        """Run several named queries in one managed write transaction."""
        def work(tx: neo4j.ManagedTransaction) -> list[list[dict]]:
            results = []
            for name, params in steps:
                if callable(params):
                    params = params(results)
                results.append(tx.run(queries()[name].text, params).data())
            return results

        try:
            with self._session() as session:
                return session.execute_write(work)
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as err:
            raise _driver_error(err, f"writing to Neo4j ({steps[0][0]})") from None
        except OverflowError as err:
            raise ValueError(f"cannot write to Neo4j ({steps[0][0]}): {err}") from None

    def _nodes_from_records(self, rows: list[dict]) -> list[BaseNode]:
        code_ids = {r["location"]["code_id"] for r in rows if r["location"]}
        codes = self._source_codes(code_ids)
        nodes = []
        for row in rows:
            location = None
            if row["location"]:
                location = {"position": row["location"]["position"],
                            "code": codes[row["location"]["code_id"]]}
            node = record_to_node(row["node"], row["deps"], location)
            self._cache.put("node", node.id, (row["node"], row["deps"], row["location"]))
            nodes.append(node)
        return nodes

    def _cached_node(self, node_id: str) -> BaseNode | None:
        """A node of the read cache, built anew from its record (as read from Neo4j, or
        as the commit that wrote it sent it)."""
        record = self._cache.get("node", node_id)
        if record is None:
            return None
        props, deps, location = record
        if location is not None:
            code = self._source_codes({location["code_id"]})[location["code_id"]]
            location = {"position": location["position"], "code": code}
        return record_to_node(props, deps, location)

    def _source_codes(self, ids: set[str]) -> dict[str, SourceCode]:
        found = {i: c for i, c in self._unit.source_codes.items() if i in ids}
        for i in ids:
            if i not in found and (cached := self._cache.get("code", i)) is not None:
                found[i] = cached
        missing = [i for i in ids if i not in found]
        if missing:
            for row in self._read("store.source_codes_by_ids", ids=missing):
                code = source_code_from_props(row["code"])
                found[code.id] = code
                self._cache.put("code", code.id, code)
        return found

    def clear_cache(self) -> None:
        """Forget what was read; the next reads go to Neo4j."""
        self._cache.clear()

    # -- writers (buffered until commit) ------------------------------------------------
    def write_context(self, context: SessionContext) -> None:
        check_keys(f"session {brief(context.id)}", id=context.id,
                   execution_id=context.execution_id)
        check_datetimes(context, "creation_time")
        check_text(f"session {context.id!r}", [session_to_props(context)])
        self._unit.contexts[context.id] = context

    def write_execution(self, execution: Execution) -> None:
        check_keys(f"execution {brief(execution.id)}", id=execution.id)
        check_datetimes(execution, "timestamp")
        self._unit.executions[execution.id] = execution

    def write_source_code(self, source_code: SourceCode) -> None:
        check_keys(f"source code {brief(source_code.id)}", id=source_code.id)
        check_text(f"source code {source_code.id!r}", [source_code_to_props(source_code)])
        self._unit.source_codes[source_code.id] = source_code

    def write_node(self, node: BaseNode) -> None:
        if getattr(node, "node_type", None) not in NODE_LABELS:
            raise TypeError(f"not a lineage node: {brief(node, 200)}")
        check_keys(f"node {brief(node.id)}", id=node.id, session_id=node.session_id,
                   **({"name": node.name} if isinstance(node, ImportNode) else {}))
        row = node_to_row(node)
        check_text(f"node {node.id!r}", [row])
        if node.source_location is not None:
            code = node.source_location.source_code
            if code.id not in self._unit.source_codes:
                self.write_source_code(code)
        self._unit.nodes[node.id] = node
        self._unit.rows[node.id] = row

    def write_assigned_variable(self, node_id: LineaID, variable_name: str) -> None:
        check_keys("assigned variable", node_id=node_id)
        if not isinstance(variable_name, str):
            raise TypeError(f"variable name of node {brief(node_id)} must be a string, not "
                            f"{type(variable_name).__name__}")
        check_text(f"variable of node {node_id!r}", [node_id, variable_name])
        names = self._unit.variables.setdefault(node_id, [])
        if variable_name not in names:
            names.append(variable_name)

    def write_node_value(self, node_value: NodeValue) -> None:
        """Record a node's value; ``node_value.value`` is the key of a blob already in
        this store's blob store (see :meth:`save_value`)."""
        check_keys("node value", node_id=node_value.node_id,
                   execution_id=node_value.execution_id)
        try:
            info = self.blobs.info(node_value.value)
        except NotFoundError:
            raise CorruptBlobError(
                f"value of node {node_value.node_id} (execution {node_value.execution_id}) "
                f"points at blob {node_value.value!r}, which is not in {self.blobs.root}"
            ) from None
        check_datetimes(node_value, "start_time", "end_time")
        key = (node_value.node_id, node_value.execution_id)
        self._unit.node_values[key] = (node_value, info)
        # stored as the value's `python_type`, read from the pickle's opcodes (not unpickled)
        self._unit.python_types[key] = pickle_type(self.blobs.path(info.key))

    def write_artifact(self, artifact: Artifact) -> None:
        """Buffer an artifact; a name and version already taken is refused at once."""
        check_keys("artifact", name=artifact.name, node_id=artifact.node_id,
                   execution_id=artifact.execution_id)
        parse_artifact_version(artifact.version)  # 0 to 2**63 - 1
        check_datetimes(artifact, "date_created")
        check_text(f"artifact {artifact.name!r}", [artifact_to_props(artifact)])
        key = (artifact.name, artifact.version)
        if key in self._unit.artifacts or self._read(
            "store.artifact_by_name", name=artifact.name, version=artifact.version
        ):
            raise DuplicateError(
                f"artifact {artifact.name!r} version {artifact.version} already exists"
            )
        self._unit.artifacts[key] = artifact

    def save_artifact(self, name: str, node_id: LineaID, execution_id: LineaID,
                      date_created: datetime.datetime | None = None) -> Artifact:
        """Save ``name`` as the next version of that name, pointing at ``node_id``'s value
        in ``execution_id``, and commit it with everything pending; return it.

        LineaPy's tracer asked for the latest version and wrote latest + 1, so two
        processes saving one name at once could collide. Here the version is chosen
        inside the commit's transaction; when another process takes it first, Neo4j's
        uniqueness constraint refuses ours and the whole commit is tried again with a
        fresh version. Versions of a name are thus unique and consecutive across
        processes, and no save is lost. (lineagraph's addition to LineaPy's API.)
        """
        artifact = Artifact(
            name=name, node_id=node_id, execution_id=execution_id, version=0,
            date_created=date_created or datetime.datetime.now(),
        )
        check_keys("artifact", name=name, node_id=node_id, execution_id=execution_id)
        check_datetimes(artifact, "date_created")
        check_text(f"artifact {name!r}", [artifact_to_props(artifact)])
        self._unit.next_versions.append((artifact, uuid.uuid4().hex))
        return self.commit().saved[-1]

    def save_value(self, value: Any) -> Optional[BlobInfo]:
        """LineaPy's FilePickler: pickle ``value`` into the blob store; None when it
        cannot be pickled. Pass ``info.key`` as ``NodeValue.value``."""
        return self.blobs.put_value(value)

    # -- commit -------------------------------------------------------------------------------
    def commit(self) -> CommitStats:
        """Send everything written since the last commit, atomically."""
        unit, self._unit = self._unit, _Unit()
        if unit.empty():
            self.last_commit = CommitStats()
            return self.last_commit
        started = time.perf_counter()
        stats = CommitStats()

        def make_work(retried: bool):
            # metadata shows in SHOW TRANSACTIONS: which process is committing what
            @neo4j.unit_of_work(metadata={"app": "lineagraph", "op": "commit",
                                          "pid": os.getpid(), "nodes": len(unit.nodes)})
            def work(tx: neo4j.ManagedTransaction) -> CommitStats:
                run_stats = CommitStats()
                _write_unit(tx, unit, self.batch_size, run_stats, retried=retried)
                return run_stats
            return work

        try:
            stats = self._commit_unit(unit, make_work)
        except LineagraphError:
            raise
        except neo4j_errors.ConstraintError as err:
            raise DuplicateError(
                f"commit refused, nothing of it was stored: {_first_line(err)}"
            ) from None
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired,
                neo4j_errors.AuthError, neo4j_errors.TransientError) as err:
            raise StoreUnavailableError(
                f"commit failed, nothing of it was stored: {_unavailable(err)}"
            ) from None
        except neo4j_errors.Neo4jError as err:
            raise LineagraphError(
                f"commit failed ({err.code}), nothing of it was stored: {_first_line(err)}"
            ) from None
        except (ValueError, TypeError, OverflowError) as err:  # a value the driver can't send
            raise LineagraphError(
                f"commit failed, nothing of it was stored: {type(err).__name__}: {err}"
            ) from err
        stats.seconds = time.perf_counter() - started
        for node_id, row in unit.rows.items():  # records, not copies of the models
            location = row["location"] and {"position": row["location"]["position"],
                                            "code_id": row["location"]["source_code_id"]}
            self._cache.put("node", node_id, (row["props"], row["edges"], location))
        for context in unit.contexts.values():
            self._cache.put("session", context.id, context)
        for code in unit.source_codes.values():
            self._cache.put("code", code.id, code)
        self.last_commit = stats
        return stats

    def _commit_unit(self, unit: _Unit, make_work) -> CommitStats:
        """Run the unit in one managed transaction, holding the blob store's shared lock
        when it records values. The driver retries transient faults before the commit
        (the attempt was rolled back). Here the unit is run again when

        - the connection broke while Neo4j committed (``IncompleteCommit``, which the
          driver does not retry): the unit may be stored, so the new run recognises its
          own artifacts and saves instead of refusing them;
        - another writer created one of its new nodes first (CREATE path): once, the
          nodes are then found and merged;
        - save_artifact lost a race for a version: with a fresh version.
        """
        attempts = 0
        retried = False  # True once an earlier run may have been committed unheard of
        node_race = False
        deadline = time.monotonic() + config.retry_seconds()
        while True:
            attempts += 1
            try:
                with contextlib.ExitStack() as stack:
                    if unit.node_values:
                        stack.enter_context(self.blobs.lock(shared=True))
                        _check_blobs_present(self.blobs, unit)
                    with self._session() as session:
                        stats = session.execute_write(make_work(retried))
                stats.attempts = attempts
                return stats
            except neo4j_errors.IncompleteCommit:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        "Neo4j stopped answering while it committed: the commit may or "
                        "may not be stored; run the same work again (it is idempotent)"
                    ) from None
                logger.debug("commit: answer lost during COMMIT, running the unit again")
                retried = True
                time.sleep(1.0)
            except neo4j_errors.ConstraintError as err:
                message = str(err.message)
                if "label `Node`" in message and not node_race:
                    node_race = True  # another writer created the node first: merge it
                    continue
                if not (unit.next_versions and "label `Artifact`" in message):
                    raise
                if attempts >= SAVE_ATTEMPTS:
                    raise DuplicateError(
                        f"save_artifact gave up after {SAVE_ATTEMPTS} conflicts with other "
                        "processes saving the same name; nothing was stored") from None
                logger.debug("save_artifact: version taken by another writer, trying again")
                time.sleep(random.uniform(0.0, 0.01 * min(attempts, 20)))

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
            self._unit = _Unit()  # an exception discards the pending unit
            if self._owns_driver:
                self.driver.close()
        else:
            self.close()

    # -- readers ------------------------------------------------------------------------------
    def get_node_by_id(self, linea_id: LineaID) -> BaseNode:
        if linea_id in self._unit.nodes:
            return self._unit.nodes[linea_id]
        cached = self._cached_node(linea_id)
        if cached is not None:
            return cached
        rows = self._read("store.node_by_id", id=linea_id, dependency_types=DEPENDENCY_TYPES)
        if not rows:
            raise NotFoundError(f"node {linea_id!r} not found")
        return self._nodes_from_records(rows)[0]

    def get_nodes_by_ids(self, ids: Iterable[LineaID]) -> list[BaseNode]:
        """Several nodes at once (pending, cached, then one query for the rest); a
        missing id is a NotFoundError naming it."""
        ids = list(dict.fromkeys(ids))
        found: dict[str, BaseNode] = {}
        for node_id in ids:
            node = self._unit.nodes.get(node_id) or self._cached_node(node_id)
            if node is not None:
                found[node_id] = node
        missing = [i for i in ids if i not in found]
        if missing:
            rows = self._read("store.nodes_by_ids", ids=missing,
                              dependency_types=DEPENDENCY_TYPES)
            found.update((n.id, n) for n in self._nodes_from_records(rows))
        absent = [i for i in ids if i not in found]
        if absent:
            raise NotFoundError(f"node {absent[0]!r} not found"
                                + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
        return [found[i] for i in ids]

    def get_nodes_for_session(self, session_id: LineaID) -> list[BaseNode]:
        rows = self._read("store.nodes_for_session", session_id=session_id,
                          dependency_types=DEPENDENCY_TYPES)
        nodes = {n.id: n for n in self._nodes_from_records(rows)}
        nodes.update({i: n for i, n in self._unit.nodes.items() if n.session_id == session_id})
        return list(nodes.values())

    def get_session_context(self, linea_id: LineaID) -> SessionContext:
        if linea_id in self._unit.contexts:
            return self._unit.contexts[linea_id]
        cached = self._cache.get("session", linea_id)
        if cached is not None:
            return cached
        rows = self._read("store.session_context", id=linea_id)
        if not rows:
            raise NotFoundError(f"session {linea_id!r} not found")
        context = session_from_props(rows[0]["session"])
        self._cache.put("session", context.id, context)
        return context

    def get_source_code_for_session(self, session_id: LineaID) -> str:
        """A script's source, or a Jupyter session's cells joined in execution order."""
        context = self.get_session_context(session_id)
        if context.environment_type is SessionType.JUPYTER:
            cells = {c.id: c for c in (source_code_from_props(r["code"]) for r in self._read(
                "store.cells_for_session", session_id=session_id))}
            cells.update({c.id: c for c in self._unit.source_codes.values()
                          if not isinstance(c.location, Path)
                          and c.location.session_id == session_id})
            ordered = sorted(cells.values(), key=lambda c: c.location.execution_count)
            return "".join(c.code for c in ordered)
        for node in self._unit.nodes.values():
            if node.session_id == session_id and node.source_location is not None:
                return node.source_location.source_code.code
        rows = self._read("store.script_code_for_session", session_id=session_id)
        return rows[0]["code"] if rows else ""

    def get_libraries_for_session(self, session_id: LineaID) -> list[ImportNode]:
        """One ImportNode per distinct (package, version) used by the session."""
        rows = self._read("store.libraries_for_session", session_id=session_id,
                          dependency_types=DEPENDENCY_TYPES)
        found: dict[tuple, ImportNode] = {}
        for node in self._nodes_from_records(rows) + sorted(
            (n for n in self._unit.nodes.values()
             if isinstance(n, ImportNode) and n.session_id == session_id),
            key=lambda n: n.id,
        ):
            found.setdefault((node.package_name or node.name, node.version), node)
        return [found[k] for k in sorted(found, key=lambda k: (k[0], k[1] or ""))]

    def get_variables_for_session(self, session_id: LineaID) -> list[tuple[LineaID, str]]:
        pairs = {(r["node_id"], r["name"]) for r in self._read(
            "store.variables_for_session", session_id=session_id)}
        for node_id, names in self._unit.variables.items():
            node = self._unit.nodes.get(node_id)
            if node is None:
                try:
                    node = self.get_node_by_id(node_id)
                except NotFoundError:
                    continue
            if node.session_id == session_id:
                pairs.update((node_id, name) for name in names)
        return sorted(pairs)

    def get_variable_by_id(self, linea_id: LineaID) -> list[str]:
        rows = self._read("store.variables_by_node", id=linea_id)
        names = list(rows[0]["names"]) if rows else []
        names += [n for n in self._unit.variables.get(linea_id, []) if n not in names]
        return names

    # -- artifacts ----------------------------------------------------------------------------
    def _pending_artifacts(self, name: str | None = None) -> list[Artifact]:
        return [a for a in self._unit.artifacts.values() if name is None or a.name == name]

    def get_all_artifacts(self) -> list[Artifact]:
        stored = [artifact_from_props(r["artifact"]) for r in self._read("store.all_artifacts")]
        return sorted(stored + self._pending_artifacts(), key=lambda a: (a.name, a.version))

    def get_artifacts_for_session(self, session_id: LineaID) -> list[Artifact]:
        stored = [artifact_from_props(r["artifact"]) for r in self._read(
            "store.artifacts_for_session", session_id=session_id)]
        pending = [a for a in self._pending_artifacts()
                   if self._session_of(a.node_id) == session_id]
        return sorted(stored + pending, key=lambda a: (a.name, a.version))

    def _session_of(self, node_id: str) -> str | None:
        try:
            return self.get_node_by_id(node_id).session_id
        except NotFoundError:
            return None

    def get_artifact_by_name(self, artifact_name: str, version: Optional[int] = None) -> Artifact:
        """The artifact of that name and version; the latest version when none is given."""
        if version is not None:
            parsed = parse_artifact_version(version)
            version = None if parsed == "latest" else parsed
            if version == "all":
                raise ValueError("get_artifact_by_name takes one version, not 'all'")
        candidates = [a for a in self._pending_artifacts(artifact_name)
                      if version is None or a.version == version]
        rows = self._read("store.artifact_by_name", name=artifact_name, version=version)
        candidates += [artifact_from_props(r["artifact"]) for r in rows]
        if not candidates:
            which = f" version {version}" if version is not None else ""
            raise NotFoundError(f"artifact {artifact_name!r}{which} not found")
        return max(candidates, key=lambda a: a.version)

    def get_latest_artifact_version(self, artifact_name: str) -> int:
        """The highest version of that name, or -1 when there is none."""
        rows = self._read("store.latest_artifact_version", name=artifact_name)
        stored = rows[0]["version"] if rows and rows[0]["version"] is not None else -1
        pending = [a.version for a in self._pending_artifacts(artifact_name)]
        return max([stored, *pending])

    def artifact_in_db(self, node_id: LineaID, execution_id: LineaID, name: str,
                       version: int) -> bool:
        version = int(version)
        if any(a.node_id == node_id and a.execution_id == execution_id and a.version == version
               for a in self._pending_artifacts(name)):
            return True
        rows = self._read("store.artifact_exists", node_id=node_id,
                          execution_id=execution_id, name=name, version=int(version))
        return bool(rows[0]["found"])

    def number_of_artifacts_per_node(self, node_id: LineaID, execution_id: LineaID) -> int:
        rows = self._read("store.artifacts_per_node", node_id=node_id,
                          execution_id=execution_id)
        pending = sum(1 for a in self._pending_artifacts()
                      if a.node_id == node_id and a.execution_id == execution_id)
        return rows[0]["n"] + pending

    # -- node values --------------------------------------------------------------------------
    def get_node_value_from_db(self, node_id: LineaID,
                               execution_id: LineaID) -> Optional[NodeValue]:
        pending = self._unit.node_values.get((node_id, execution_id))
        if pending is not None:
            return pending[0]
        rows = self._read("store.node_value", node_id=node_id, execution_id=execution_id)
        return node_value_from_props(rows[0]["value"]) if rows else None

    def node_value_in_db(self, node_id: LineaID, execution_id: LineaID) -> bool:
        return self.get_node_value_from_db(node_id, execution_id) is not None

    def get_node_value_path(self, node_id: LineaID, execution_id: LineaID) -> str:
        """The blob key of the value (LineaPy: the pickle's file name)."""
        value = self.get_node_value_from_db(node_id, execution_id)
        if value is None:  # a ValueError too, as LineaPy raised there
            raise ValueNotFoundError(
                f"no value stored for node {node_id!r} in execution {execution_id!r}"
            )
        return value.value

    def load_node_value(self, node_id: LineaID, execution_id: LineaID) -> Any:
        """Unpickle a stored value after checking its hash. Unpickling runs code: load
        only values you trust; we load only from our own blob store."""
        key = self.get_node_value_path(node_id, execution_id)
        try:
            self.blobs.path(key)
        except ConfigurationError:  # e.g. "../x": the graph was edited by hand
            raise CorruptBlobError(
                f"the value of node {node_id!r} (execution {execution_id!r}) points at "
                f"{key!r:.100}, which is not a blob key of this store; not loading it"
            ) from None
        return self.blobs.load_value(key)

    # -- deletes ------------------------------------------------------------------------------
    def delete_artifact_by_name(self, artifact_name: str,
                                version: Union[int, str, None] = None) -> int:
        """Delete one version, ``"latest"`` (also when None) or ``"all"``; return how
        many were deleted. Values no artifact uses any more go too, with their blobs."""
        self.commit()
        parsed = parse_artifact_version("latest" if version is None else version)
        if parsed == "latest":
            latest = self.get_latest_artifact_version(artifact_name)
            if latest < 0:
                raise NotFoundError(f"artifact {artifact_name!r} not found")
            parsed = latest
        target = None if parsed == "all" else parsed

        def unreferenced(results: list) -> dict:
            pairs = {(r["node_id"], r["execution_id"]) for r in results[0]}
            return {"pairs": [{"node_id": n, "execution_id": e} for n, e in sorted(pairs)]}

        # the artifacts and the values no artifact uses any more go in one transaction
        deleted, values = self._write_many([
            ("store.delete_artifacts", {"name": artifact_name, "version": target}),
            ("store.delete_unreferenced_values", unreferenced),
        ])
        if not deleted:
            which = f" version {target}" if target is not None else ""
            raise NotFoundError(f"artifact {artifact_name!r}{which} not found")
        keys = [r["key"] for r in values]
        self._remove_unreferenced_blobs(keys)
        return len(deleted)

    def delete_node_value_from_db(self, node_id: LineaID, execution_id: LineaID) -> None:
        self.commit()
        rows = self._write("store.delete_node_value", node_id=node_id,
                           execution_id=execution_id)
        if not rows:
            raise NotFoundError(
                f"no value stored for node {node_id!r} in execution {execution_id!r}"
            )
        self._remove_unreferenced_blobs([r["key"] for r in rows])

    def _remove_unreferenced_blobs(self, keys: list[str]) -> list[str]:
        if not keys:
            return []
        # counted and unlinked under the exclusive lock: a commit about to point at one
        # of these blobs holds the shared lock from its check until Neo4j has it
        with self.blobs.lock(shared=False):
            counts = self._read("store.blob_reference_counts", keys=sorted(set(keys)))
            removed = [r["key"] for r in counts if r["refs"] == 0]
            for key in removed:
                self.blobs.delete(key)
        return removed


def _driver_error(err: Exception, doing: str) -> LineagraphError:
    """A driver error as one of ours, with a one-line, credential-free message."""
    if isinstance(err, (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired,
                        neo4j_errors.AuthError, neo4j_errors.TransientError)):
        return StoreUnavailableError(f"{doing} failed: {_unavailable(err)}")
    code = getattr(err, "code", None)
    return LineagraphError(f"{doing} failed{f' ({code})' if code else ''}: {_first_line(err)}")


def _unavailable(err: Exception) -> str:
    """Why Neo4j could not be used, in one line, after the driver's retries."""
    text = re.sub(r" \(resolved to .*?\)", "", _first_line(err)).rstrip(":. ")
    if isinstance(err, neo4j_errors.AuthError):
        return text
    if isinstance(err, neo4j_errors.TransientError):
        return f"Neo4j could not do it now ({text}), also when tried again"
    return f"Neo4j did not answer ({text}), also when tried again"


def _first_line(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err)
    return text.splitlines()[0] if text else type(err).__name__


# -- the unit of work, inside one transaction ---------------------------------------------
def _run(tx: neo4j.ManagedTransaction, name: str, stats: CommitStats, /,
         **params: Any) -> list:
    stats.statements += 1
    return tx.run(queries()[name].text, params).data()


def _missing(tx, name: str, ids: set[str], stats: CommitStats) -> set[str]:
    if not ids:
        return set()
    return {r["id"] for r in _run(tx, name, stats, ids=sorted(ids))}


def _check_blobs_present(blobs: BlobStore, unit: _Unit) -> None:
    """Every value's blob is still on disk with the size it had when written."""
    for value, info in unit.node_values.values():
        try:
            size = blobs.path(info.key).stat().st_size
        except FileNotFoundError:
            size = None
        if size != info.size:
            what = "is gone" if size is None else f"changed size ({info.size} -> {size} bytes)"
            raise CorruptBlobError(
                f"blob {info.key} of the value of node {value.node_id} (execution "
                f"{value.execution_id}) {what} since write_node_value, probably removed by "
                "another process deleting an artifact; store the value again "
                "(save_value) and retry; nothing was stored"
            )


def _check_references(tx, unit: _Unit, rows: list[dict], stats: CommitStats) -> None:
    """Refuse the unit if anything it points at is neither in it nor in the store."""
    executions = {c.execution_id for c in unit.contexts.values()}
    executions |= {a.execution_id for a in unit.artifacts.values()}
    executions |= {a.execution_id for a, _ in unit.next_versions}
    executions |= {v.execution_id for v, _ in unit.node_values.values()}
    missing = _missing(tx, "store.missing_execution_ids", executions - set(unit.executions),
                       stats)
    if missing:
        raise NotFoundError(
            f"execution(s) {', '.join(sorted(missing))} referenced by this commit were never "
            "written (write_execution first); nothing was stored"
        )
    sessions = {n.session_id for n in unit.nodes.values()} - set(unit.contexts)
    missing = _missing(tx, "store.missing_session_ids", sessions, stats)
    if missing:
        raise NotFoundError(
            f"session(s) {', '.join(sorted(missing))} of nodes in this commit were never "
            "written (write_context first); nothing was stored"
        )
    wanted: dict[str, str] = {}
    for row in rows:
        for edge in row["edges"]:
            wanted.setdefault(edge["dst"], row["id"])
    for node_id in unit.variables:
        wanted.setdefault(node_id, node_id)
    for artifact in [*unit.artifacts.values(), *(a for a, _ in unit.next_versions)]:
        wanted.setdefault(artifact.node_id, f"artifact {artifact.name!r}")
    for value, _ in unit.node_values.values():
        wanted.setdefault(value.node_id, "a node value")
    missing = _missing(tx, "store.missing_node_ids", set(wanted) - set(unit.nodes), stats)
    if missing:
        sample = sorted(missing)[:5]
        detail = "; ".join(f"{m!r} (needed by {wanted[m]})" for m in sample)
        raise NotFoundError(
            f"{len(missing)} referenced node(s) are neither in this commit nor in the "
            f"store: {detail}; nothing was stored"
        )



def _new_artifacts(tx, unit: _Unit, stats: CommitStats, retried: bool) -> list[Artifact]:
    """The unit's artifacts, refused if their name and version are taken. On a retry, one
    stored identically is skipped instead: it is this very commit, which Neo4j committed
    before the connection broke."""
    if not unit.artifacts:
        return []
    stored = {}
    for row in _run(tx, "store.existing_artifacts", stats,
                    rows=[{"name": n, "version": v} for n, v in unit.artifacts]):
        artifact = artifact_from_props(row["artifact"])
        stored[(artifact.name, artifact.version)] = artifact
    for key, artifact in unit.artifacts.items():
        if key in stored and not (retried and stored[key] == artifact):
            raise DuplicateError(
                f"artifact {artifact.name!r} version {artifact.version} already exists; "
                "nothing was stored"
            )
    return [a for key, a in unit.artifacts.items() if key not in stored]


def _save_next_versions(tx, unit: _Unit, stats: CommitStats, retried: bool) -> None:
    """save_artifact: each artifact becomes the next version of its name."""
    for artifact, save_id in unit.next_versions:
        rows = retried and _run(tx, "store.same_artifact_saved", stats,
                                name=artifact.name, save_id=save_id)
        if rows:  # a retry of a commit that reached Neo4j: keep the version it got
            stats.saved.append(artifact_from_props(rows[0]["artifact"]))
            continue
        version = _run(tx, "store.next_artifact_version", stats, name=artifact.name)
        saved = artifact.model_copy(update={"version": version[0]["version"]})
        # CREATE: if another writer took this version meanwhile, the uniqueness
        # constraint refuses it and GraphLineaDB._commit_unit tries the commit again
        _run(tx, "store.write_artifacts", stats,
             rows=[{"props": {**artifact_to_props(saved), "save_id": save_id}}])
        stats.saved.append(saved)


def _write_unit(tx: neo4j.ManagedTransaction, unit: _Unit, batch: int,
                stats: CommitStats, retried: bool = False) -> None:
    complete_captions(unit.rows)
    rows = [unit.rows[i] for i in unit.nodes]
    _check_references(tx, unit, rows, stats)
    new = _new_artifacts(tx, unit, stats, retried)
    if unit.executions:
        _run(tx, "store.write_executions", stats, rows=[
            {"id": e.id, "props": execution_to_props(e)} for e in unit.executions.values()])
    if unit.contexts:
        _run(tx, "store.write_sessions", stats, rows=[
            {"id": c.id, "execution_id": c.execution_id, "props": session_to_props(c)}
            for c in unit.contexts.values()])
    if unit.source_codes:
        _run(tx, "store.write_source_code", stats, rows=[
            {"id": c.id, "props": source_code_to_props(c)} for c in unit.source_codes.values()])
    # Nodes already stored are rewritten (MERGE); the others, most of a new session, are
    # created, which is cheaper (benchmarks/run.py); the constraint still refuses duplicates.
    stored = {r["id"] for ids in _batches(list(unit.nodes), batch)
              for r in _run(tx, "store.existing_node_ids", stats, ids=ids)}
    for name, part in (("store.write_nodes", [r for r in rows if r["id"] in stored]),
                       ("store.write_new_nodes", [r for r in rows if r["id"] not in stored])):
        for chunk in _batches(part, batch):
            written = _run(tx, name, stats, rows=[
                {k: r[k] for k in ("id", "session_id", "label", "props", "location")}
                for r in chunk], dependency_types=DEPENDENCY_TYPES)[0]["written"]
            if written != len(chunk):
                raise LineagraphError(f"only {written} of {len(chunk)} nodes could be "
                                      "written; nothing was stored")
    stats.nodes = len(rows)
    edges = [dict(edge, src=row["id"]) for row in rows for edge in row["edges"]]
    for chunk in _batches(edges, batch):
        written = _run(tx, "store.write_edges", stats, rows=chunk)[0]["written"]
        if written != len(chunk):  # a MATCH found no endpoint: never store a partial graph
            raise LineagraphError(
                f"only {written} of {len(chunk)} dependency edges could be written; "
                "nothing was stored"
            )
    stats.edges = len(edges)
    if unit.variables:
        _run(tx, "store.write_variables", stats, rows=[
            {"id": i, "names": names} for i, names in unit.variables.items()])
    if unit.node_values:
        _run(tx, "store.write_node_values", stats, rows=[
            {"node_id": v.node_id, "execution_id": v.execution_id,
             "props": {**node_value_to_props(v), "size": info.size, "sha256": info.sha256,
                       "python_type": unit.python_types.get(key)}}
            for key, (v, info) in unit.node_values.items()])
    if new:
        _run(tx, "store.write_artifacts", stats, rows=[
            {"props": artifact_to_props(a)} for a in new])
    _save_next_versions(tx, unit, stats, retried)
