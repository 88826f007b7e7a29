"""The unit of work: what is buffered between two commits, and how it is written inside
one managed transaction (checked, then batched ``UNWIND`` statements).

:func:`write_unit` is the transaction function's body; it may run more than once (the
driver retries, and :mod:`lineagraph.store.commit` runs it again after a lost answer),
so it is idempotent and returns plain values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Iterable

from .._driver import neo4j  # the driver without NumPy and pandas

from ..blobs import BlobInfo, BlobStore
from ..errors import CorruptBlobError, DuplicateError, LineagraphError, NotFoundError
from ..mapping import (
    DEPENDENCY_TYPES,
    NODE_LABELS,
    artifact_from_props,
    artifact_to_props,
    complete_captions,
    execution_to_props,
    node_value_to_props,
    session_to_props,
    source_code_to_props,
)
from ..models import Artifact, BaseNode, Execution, NodeValue, SessionContext, SourceCode
from ..queries import Query, queries
from ..query import run


@dataclass
class CommitStats:
    """What the last commit sent: statements (round trips), rows and time."""

    statements: int = 0
    nodes: int = 0
    edges: int = 0
    seconds: float = 0.0
    attempts: int = 1  # > 1 when save_artifact lost a race for a version and tried again
    transactions: int = 1  # > 1 when the unit was larger than one (store.staging)
    saved: list[Artifact] = field(default_factory=list)  # what save_artifact stored


@dataclass
class Unit:
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
    # ids of nodes their writer made itself, fresh (the recorder's): created without
    # looking them up first; if one is stored after all, the uniqueness constraint
    # refuses the attempt and the next looks every node up (commit.py)
    fresh: set[str] = field(default_factory=set)
    # source code the store holds already (the read cache says so): not written again
    # with each part of a session recorded part by part
    codes_stored: set[str] = field(default_factory=set)

    def empty(self) -> bool:
        return not any((self.executions, self.contexts, self.source_codes, self.nodes,
                        self.node_values, self.artifacts, self.next_versions,
                        self.variables))



def batches(rows: list, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]



# -- statements of new nodes and of edges ------------------------------------------------
# a source code with fewer new nodes of a label than this shares a statement with others
# (a notebook's cells); with more, its code is matched once (a script's)
CODE_GROUP = 200


# what a node's IN_SESSION points at: its session, or the session's stand-in while a
# unit too large for one transaction is written (lineagraph.store.staging)
SESSION_LABELS = ("Session", "StagedSession")


def new_node_statements(rows: list[dict], batch: int,
                        session_label: str = "Session") -> Iterable[tuple[Query, dict]]:
    """The statements creating the nodes of ``rows`` (node_to_row results, none of them
    stored): per type label and session, the nodes of a source code that has many in
    one statement of their own, the other located ones together, the unlocated ones;
    each label written into its query from the fixed table, rows sent as lists."""
    groups: dict[tuple, list] = {}
    for r in rows:
        location = r["location"]
        code_id = location["source_code_id"] if location is not None else None
        groups.setdefault((r["label"], r["session_id"], code_id), []).append(r)
    mixed: dict[tuple, list] = {}
    for (label, session_id, code_id), group in groups.items():
        if code_id is None:
            query = _labelled("store.write_new_nodes_unlocated", label, session_label)
            for chunk in batches([[r["props"]] for r in group], batch):
                yield query, {"session_id": session_id, "rows": chunk}
        elif len(group) >= CODE_GROUP:
            query = _labelled("store.write_new_nodes_in_code", label, session_label)
            for chunk in batches([[r["props"], r["location"]["position"]] for r in group],
                                 batch):
                yield query, {"session_id": session_id, "source_code_id": code_id,
                              "rows": chunk}
        else:
            mixed.setdefault((label, session_id), []).extend(
                [r["props"], r["location"]["position"], code_id] for r in group)
    for (label, session_id), group in mixed.items():
        query = _labelled("store.write_new_nodes_located", label, session_label)
        for chunk in batches(group, batch):
            yield query, {"session_id": session_id, "rows": chunk}


def edge_rows(rows: list[dict]) -> list[list]:
    """The dependency edges of node rows as ``[src, dst, type, props]`` lists."""
    return [[r["id"], e["dst"], e["type"], e["props"]] for r in rows for e in r["edges"]]


def edge_statements(rows: list[dict], batch: int) -> Iterable[tuple[Query, dict]]:
    """The statements creating the dependency edges of ``rows``."""
    edges = edge_rows(rows)
    query = queries()["store.write_edges"]
    for chunk in batches(edges, batch):
        yield query, {"rows": chunk}


@functools.lru_cache(maxsize=None)
def _labelled(name: str, label: str, session_label: str) -> Query:
    """Query ``name`` with its ``:NodeLabel`` written as ``label`` (from NODE_LABELS) and
    its ``:SessionLabel`` as ``session_label`` (from SESSION_LABELS)."""
    return (queries()[name].naming("NodeLabel", label, NODE_LABELS.values())
            .naming("SessionLabel", session_label, SESSION_LABELS))


def _check_written(written: int, wanted: int, what: str) -> None:
    if written != wanted:
        raise LineagraphError(f"only {written} of {wanted} {what} could be written; "
                              "nothing was stored")


# -- inside one transaction ------------------------------------------------------------
def run_counted(tx: neo4j.ManagedTransaction, name: str | Query, stats: CommitStats, /,
                **params: Any) -> list:
    """One statement of a commit, counted in ``stats``."""
    stats.statements += 1
    return run(tx, name, **params)


def _missing(tx, name: str, ids: set[str], stats: CommitStats) -> set[str]:
    if not ids:
        return set()
    return {r["id"] for r in run_counted(tx, name, stats, ids=sorted(ids))}


def check_blobs_present(blobs: BlobStore, unit: Unit) -> None:
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


@dataclass(eq=False)
class Asked:
    """What a unit points at outside itself, which the store must hold: computed from the
    unit alone, once (a staged unit checks twice: before writing and when publishing)."""

    executions: set[str]
    # the sessions of its nodes, except those it writes whose nodes are all fresh
    sessions: set[str]
    # the nodes outside the unit that it points at
    nodes: set[str]
    unit: Unit = field(repr=False)
    rows: list[dict] = field(repr=False)

    @classmethod
    def of(cls, unit: Unit, rows: list[dict]) -> "Asked":
        executions = {c.execution_id for c in unit.contexts.values()}
        executions |= {a.execution_id for a in unit.artifacts.values()}
        executions |= {a.execution_id for a, _ in unit.next_versions}
        executions |= {v.execution_id for v, _ in unit.node_values.values()}
        # asked once for both uses: sessions the unit does not write must be stored, and
        # those it writes are new or not (a session whose nodes are all fresh need not say)
        sessions = {n.session_id for node_id, n in unit.nodes.items()
                    if n.session_id not in unit.contexts or node_id not in unit.fresh}
        wanted = {node_id for node_id, _ in _pointers(unit, rows)}
        return cls(executions - set(unit.executions), sessions,
                   wanted - unit.nodes.keys(), unit, rows)

    def needed_by(self, node_ids: list[str]) -> dict[str, str]:
        """What in the unit points at each of ``node_ids`` (for an error message)."""
        needs: dict[str, Any] = {}
        for node_id, source in _pointers(self.unit, self.rows):
            needs.setdefault(node_id, source)
        return {i: _describe(needs[i]) for i in node_ids}


def _pointers(unit: Unit, rows: list[dict]) -> Iterable[tuple[str, Any]]:
    """Every node id the unit points at, with what points at it: a node's row, an
    assigned variable's node id, an artifact, a node value."""
    yield from ((e["dst"], row) for row in rows for e in row["edges"])
    yield from ((node_id, node_id) for node_id in unit.variables)
    for artifact in [*unit.artifacts.values(), *(a for a, _ in unit.next_versions)]:
        yield artifact.node_id, artifact
    for value, _ in unit.node_values.values():
        yield value.node_id, value


def _describe(source: Any) -> str:
    if isinstance(source, dict):
        return source["id"]
    if isinstance(source, Artifact):
        return f"artifact {source.name!r}"
    if isinstance(source, NodeValue):
        return "a node value"
    return source


@dataclass
class References:
    """What check_references found: the element ids of the stored nodes the unit points
    at (for write_edge_rows), and the sessions of its nodes the store does not hold
    (all of them sessions the unit writes itself; one whose nodes are all
    ``unit.fresh`` is not asked about)."""

    element_ids: dict[str, str]
    new_sessions: set[str]


def check_references(tx, asked: Asked, stats: CommitStats) -> References:
    """Refuse the unit if anything it points at (``asked``: ``Asked.of(unit, rows)``) is
    neither in it nor in the store."""
    missing = _missing(tx, "store.missing_execution_ids", asked.executions, stats)
    if missing:
        raise NotFoundError(
            f"execution(s) {', '.join(sorted(missing))} referenced by this commit were never "
            "written (write_execution first); nothing was stored"
        )
    new_sessions = _missing(tx, "store.missing_session_ids", asked.sessions, stats)
    missing = new_sessions - set(asked.unit.contexts)
    if missing:
        raise NotFoundError(
            f"session(s) {', '.join(sorted(missing))} of nodes in this commit were never "
            "written (write_context first); nothing was stored"
        )
    outside = asked.nodes
    found = {r["id"]: r["element_id"] for r in run_counted(
        tx, "store.stored_node_element_ids", stats, ids=sorted(outside))} if outside else {}
    missing = outside - found.keys()
    if missing:
        sample = sorted(missing)[:5]
        needs = asked.needed_by(sample)
        detail = "; ".join(f"{m!r} (needed by {needs[m]})" for m in sample)
        raise NotFoundError(
            f"{len(missing)} referenced node(s) are neither in this commit nor in the "
            f"store: {detail}; nothing was stored"
        )
    return References(found, new_sessions)


def new_artifacts(tx, unit: Unit, stats: CommitStats, retried: bool) -> list[Artifact]:
    """The unit's artifacts, refused if their name and version are taken. On a retry, one
    stored identically is skipped instead: it is this very commit, which Neo4j committed
    before the connection broke."""
    if not unit.artifacts:
        return []
    stored = {}
    for row in run_counted(tx, "store.existing_artifacts", stats,
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


def _save_next_versions(tx, unit: Unit, stats: CommitStats, retried: bool) -> None:
    """save_artifact: each artifact becomes the next version of its name."""
    for artifact, save_id in unit.next_versions:
        rows = retried and run_counted(tx, "store.same_artifact_saved", stats,
                                name=artifact.name, save_id=save_id)
        if rows:  # a retry of a commit that reached Neo4j: keep the version it got
            stats.saved.append(artifact_from_props(rows[0]["artifact"]))
            continue
        version = run_counted(tx, "store.next_artifact_version", stats, name=artifact.name)
        saved = artifact.model_copy(update={"version": version[0]["version"]})
        # CREATE: if another writer took this version meanwhile, the uniqueness
        # constraint refuses it and commit.run_unit tries the commit again
        run_counted(tx, "store.write_artifacts", stats,
             rows=[{"props": {**artifact_to_props(saved), "save_id": save_id}}])
        stats.saved.append(saved)


def write_head(tx, unit: Unit, stats: CommitStats) -> None:
    """The unit's executions, sessions and source code."""
    if unit.executions:
        run_counted(tx, "store.write_executions", stats, rows=[
            {"id": e.id, "props": execution_to_props(e)} for e in unit.executions.values()])
    if unit.contexts:
        run_counted(tx, "store.write_sessions", stats, rows=[
            {"id": c.id, "execution_id": c.execution_id, "props": session_to_props(c)}
            for c in unit.contexts.values()])
    if unit.source_codes:
        run_counted(tx, "store.write_source_code", stats, rows=[
            {"id": c.id, "props": source_code_to_props(c)} for c in unit.source_codes.values()])


def stored_node_ids(tx, ids: list[str], batch: int, stats: CommitStats) -> set[str]:
    """Which of ``ids`` are stored :Node ids, ``batch`` per statement."""
    return {r["id"] for chunk in batches(ids, batch)
            for r in run_counted(tx, "store.existing_node_ids", stats, ids=chunk)}


def write_node_rows(tx, rows: list[dict], batch: int, stats: CommitStats,
                    session_label: str = "Session", assume_new: bool = False,
                    fresh: set[str] | frozenset = frozenset()) -> dict[str, str]:
    """Nodes already stored are rewritten (MERGE); the others, most of a new session, are
    created, which is cheaper (benchmarks/run.py); the constraint still refuses
    duplicates. With ``assume_new`` none is looked up: all are created (a session not
    stored yet, whose first attempt the constraint refuses if one of its ids is taken);
    nor are those in ``fresh``. Returns the element id of each node written."""
    stored = set() if assume_new else stored_node_ids(
        tx, [r["id"] for r in rows if r["id"] not in fresh], batch, stats)
    element_ids: dict[str, str] = {}
    for chunk in batches([r for r in rows if r["id"] in stored], batch):
        record = run_counted(tx, "store.write_nodes", stats, rows=[
            {k: r[k] for k in ("id", "session_id", "label", "props", "location")}
            for r in chunk], dependency_types=DEPENDENCY_TYPES)[0]
        _check_written(record["written"], len(chunk), "nodes")
        element_ids.update(record["element_ids"])
    for query, params in new_node_statements([r for r in rows if r["id"] not in stored],
                                             batch, session_label):
        record = run_counted(tx, query, stats, **params)[0]
        _check_written(record["written"], len(params["rows"]), "nodes")
        element_ids.update(record["element_ids"])
    stats.nodes += len(rows)
    return element_ids


def write_edge_rows(tx, edges: list[list], batch: int, stats: CommitStats,
                    element_ids: dict[str, str] | None = None) -> None:
    """Dependency edges as ``[src, dst, type, props]`` lists; those whose two ends are in
    ``element_ids`` (nodes this commit wrote or found) are matched by element id."""
    known = element_ids or {}
    by_element, by_id = [], []
    for edge in edges:
        src, dst = known.get(edge[0]), known.get(edge[1])
        if src is not None and dst is not None:
            by_element.append([src, dst, edge[2], edge[3], edge[0], edge[1]])
        else:
            by_id.append(edge)
    for name, group in (("store.write_edges_by_element_id", by_element),
                        ("store.write_edges", by_id)):
        query = queries()[name]
        for chunk in batches(group, batch):
            # a MATCH that found no endpoint writes fewer: never store a partial graph
            _check_written(run_counted(tx, query, stats, rows=chunk)[0]["written"],
                           len(chunk), "dependency edges")
            stats.edges += len(chunk)


def write_variables(tx, variables: dict[str, list[str]], stats: CommitStats) -> None:
    if variables:
        run_counted(tx, "store.write_variables", stats, rows=[
            {"id": i, "names": names} for i, names in variables.items()])


def write_tail(tx, unit: Unit, new: list[Artifact], stats: CommitStats,
               retried: bool) -> None:
    """The unit's node values and artifacts (after its nodes)."""
    if unit.node_values:
        run_counted(tx, "store.write_node_values", stats, rows=[
            {"node_id": v.node_id, "execution_id": v.execution_id,
             "props": {**node_value_to_props(v), "size": info.size, "sha256": info.sha256,
                       "python_type": unit.python_types.get(key)}}
            for key, (v, info) in unit.node_values.items()])
    if new:
        run_counted(tx, "store.write_artifacts", stats, rows=[
            {"props": artifact_to_props(a)} for a in new])
    _save_next_versions(tx, unit, stats, retried)


def nodes_of_new_sessions(unit: Unit, new_sessions: set[str]) -> set[str]:
    """The ids of the unit's nodes (other than ``unit.fresh``) in ``new_sessions``, which
    the unit writes and the store does not hold yet: a new session's nodes, created
    without looking each up, as a staged unit's are (the uniqueness constraint refuses
    the attempt if one of them is stored under another session after all)."""
    return {node_id for node_id, node in unit.nodes.items()
            if node.session_id in new_sessions and node_id not in unit.fresh}


def write_unit(tx: neo4j.ManagedTransaction, unit: Unit, batch: int,
               stats: CommitStats, retried: bool = False, trust_fresh: bool = True) -> None:
    """``trust_fresh``: create the nodes of ``unit.fresh``, and those of sessions not
    stored yet, without looking them up (False after the constraint refused such an
    attempt: every node is looked up, and those found are rewritten)."""
    complete_captions(unit.rows)
    rows = [unit.rows[i] for i in unit.nodes]
    references = check_references(tx, Asked.of(unit, rows), stats)
    new = new_artifacts(tx, unit, stats, retried)
    fresh = (unit.fresh | nodes_of_new_sessions(unit, references.new_sessions)
             if trust_fresh else set())
    write_head(tx, unit, stats)
    written = write_node_rows(tx, rows, batch, stats, fresh=fresh)
    write_edge_rows(tx, edge_rows(rows), batch, stats, {**references.element_ids, **written})
    write_variables(tx, unit.variables, stats)
    write_tail(tx, unit, new, stats, retried)
