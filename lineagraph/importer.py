"""Import LineaPy 0.2.x databases (``db.sqlite`` + a folder of pickles).

Reads the SQLite file with the standard library only (neither LineaPy nor SQLAlchemy is
needed), checks it whole before writing anything, then writes one session per commit:
a session is either entirely in the store or not at all, so an interrupted import is
resumed by running it again. Importing the same file twice changes nothing: sessions
already complete are skipped, nodes and values are merged by id, and an artifact whose
name and version exist with the same node and execution is skipped; with other content
it is reported as a conflict and never overwritten.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

from pydantic import BaseModel

from . import lineapy_rows as rows_to_models
from ._gc import paused_gc
from .errors import ImportError_, LineagraphError, StoreUnavailableError
from .lineapy_rows import when
from .lineapy_sqlite import (KNOWN_SCHEMA_VERSIONS, SKIPPED_TABLES, LineapyDb,
                             read_lineapy_db)
from .models import NodeValue, SessionGraph
from .store import GraphLineaDB

__all__ = ["import_lineapy", "ImportReport", "summarize", "read_lineapy_db",
           "default_pickle_dir", "KNOWN_SCHEMA_VERSIONS", "SKIPPED_TABLES"]


class ImportReport(BaseModel):
    """What an import did."""

    source: str
    pickles: str = ""
    sessions_imported: int = 0
    sessions_skipped: int = 0
    nodes_imported: int = 0
    edges_imported: int = 0
    artifacts_imported: int = 0
    artifacts_skipped: int = 0
    artifact_conflicts: list[str] = []
    values_imported: int = 0
    values_skipped: int = 0
    values_missing: list[str] = []
    variables_imported: int = 0
    skipped_tables: dict[str, int] = {}
    seconds: float = 0.0
    # of ``seconds``: reading the SQLite file and checking it whole, before any write
    read_seconds: float = 0.0

    @property
    def nodes_per_second(self) -> float:
        return self.nodes_imported / self.seconds if self.seconds else 0.0


# -- the import ------------------------------------------------------------------------------
def default_pickle_dir(sqlite_path: Path) -> Path:
    """LineaPy keeps pickles in ``linea_pickles`` beside ``db.sqlite``; our fixtures and
    copies made by hand often say ``pickles``."""
    for name in ("linea_pickles", "pickles"):
        if (sqlite_path.parent / name).is_dir():
            return sqlite_path.parent / name
    return sqlite_path.parent / "linea_pickles"

Progress = Callable[[str, int, int], None]  # (what, done, total)


def import_lineapy(
    db: GraphLineaDB,
    sqlite_path: Path | str,
    pickles: Path | str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a LineaPy database into ``db``; see the module docstring for guarantees.
    ``progress(what, done, total)`` hears the nodes written so far, one call at a time
    (inside a large session, from the commit's worker threads). Python's cyclic garbage
    collector is paused meanwhile: the rows and models it builds hold no cycles, and its
    collections while 100,000 nodes were built cost a third of reading the file."""
    with paused_gc():
        return _import(db, Path(sqlite_path), pickles, progress)


def _import(db: GraphLineaDB, path: Path, pickles: Path | str | None,
            progress: Progress | None) -> ImportReport:
    started = time.perf_counter()
    pickle_dir = Path(pickles) if pickles is not None else default_pickle_dir(path)
    source = read_lineapy_db(path)
    report = ImportReport(source=str(path), pickles=str(pickle_dir), skipped_tables={
        k: v for k, v in source.skipped_tables.items() if v},
        read_seconds=time.perf_counter() - started)
    db.ensure_schema()

    by_session: dict[str, list[dict]] = defaultdict(list)
    for node in source.nodes.values():
        by_session[node["session_id"]].append(node)
    node_session = {n["id"]: n["session_id"] for n in source.nodes.values()}
    artifacts_by_session: dict[str, list[dict]] = defaultdict(list)
    for row in source.artifacts:
        artifacts_by_session[node_session[row["node_id"]]].append(row)
    values_by_session: dict[str, list[dict]] = defaultdict(list)
    for row in source.values:
        values_by_session[node_session[row["node_id"]]].append(row)

    total_nodes = len(source.nodes)
    done_nodes = 0
    for session in source.sessions:
        sid = session["id"]
        nodes = by_session.get(sid, [])
        if progress:
            progress(f"session {sid[:8]}", done_nodes, total_nodes)
        complete, nodes_stored = _session_state(db, sid, len(nodes))
        values = _copy_values(db, values_by_session.get(sid, []), pickle_dir, report)
        graph = _session_graph(source, session, [] if nodes_stored else nodes, values,
                               artifacts_by_session.get(sid, []))
        with _staged_progress(db, progress, f"session {sid[:8]}", done_nodes, total_nodes):
            _write(db, graph, report, complete, len(nodes))
        done_nodes += len(nodes)
        if progress:
            progress(f"session {sid[:8]}", done_nodes, total_nodes)
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _staged_progress(db: GraphLineaDB, progress: Progress | None, what: str,
                     before: int, total: int):
    """While a session larger than one transaction is written, ``progress`` hears each
    transaction of its nodes, then of its edges, then its publication (a session of a
    million nodes takes minutes); from the thread that ran the transaction, one call at
    a time. A hook already on ``db.on_transaction`` still hears every transaction."""
    if progress is None:
        yield
        return

    staged = 0  # of the session's nodes: the most any attempt reported
    saved = db.on_transaction

    def on_transaction(step: str, count: int) -> None:
        nonlocal staged
        if saved is not None:
            saved(step, count)
        if step == "nodes":
            staged = max(staged, count)
            progress(what, before + staged, total)
        elif step == "edges":
            progress(f"{what}: {count:,} edges written", before + staged, total)
        elif step == "publish":
            progress(f"{what}: published", before + staged, total)

    db.on_transaction = on_transaction
    try:
        yield
    finally:
        db.on_transaction = saved


def _session_state(db: GraphLineaDB, session_id: str, node_count: int
                   ) -> tuple[bool, bool]:
    """Whether the session was imported completely, and whether its nodes are stored.

    A commit publishes a session whole, so a session holding as many nodes as the file
    but not marked complete was committed by an import stopped just before marking it:
    its nodes are not written again (a unit adding many nodes to a stored session would
    need one transaction as large as the session; ``GraphLineaDB.transaction_nodes``
    bounds only new sessions)."""
    state = db.read_one("importer.session_import_state", session_id=session_id)
    if state is None:
        return False, False
    complete = state["complete"] and state["nodes"] == node_count
    return complete, complete or (node_count > 0 and state["stored_nodes"] == node_count)


def _session_graph(source: LineapyDb, session: dict, nodes: list[dict],
                   values: list[NodeValue], artifacts: list[dict]) -> SessionGraph:
    """The session's graph from the models ``read_lineapy_db`` built and checked; only
    its values and artifacts when ``nodes`` is empty (the session is already stored)."""
    used = {n.get("source_code_id") for n in nodes}
    codes = [source.codes[cid] for cid, row in source.source_codes.items()
             if nodes and (row["jupyter_session_id"] == session["id"] or cid in used)]
    executions = {a["execution_id"] for a in artifacts} | {v.execution_id for v in values}
    graph = SessionGraph(
        context=rows_to_models.session(session),
        execution=rows_to_models.execution(source.executions[session["execution_id"]]),
        executions=[rows_to_models.execution(source.executions[e]) for e in sorted(executions)],
        source_codes=codes,
        nodes=[source.models[row["id"]] for row in nodes],
        variables={row["id"]: source.variables[row["id"]] for row in nodes
                   if source.variables.get(row["id"])},
        values=values,
        artifacts=[rows_to_models.artifact(row) for row in artifacts],
    )
    graph.mark_checked([source.checked_rows[row["id"]] for row in nodes])
    return graph


def _copy_values(db: GraphLineaDB, values: list[dict], pickle_dir: Path,
                 report: ImportReport) -> list[NodeValue]:
    """The values whose pickle is there, copied into the blob store."""
    found = []
    for row in values:
        # only a file name, looked up in the pickle folder: "../x" or "/etc/x" in a
        # crafted database cannot reach elsewhere, nor can a symlink in the folder
        pickle = pickle_dir / Path(str(row["value"])).name
        if not pickle.is_file():
            report.values_missing.append(f"{row['value']} (node {row['node_id']})")
            continue
        if not pickle.resolve().is_relative_to(pickle_dir.resolve()):
            report.values_missing.append(
                f"{row['value']} (node {row['node_id']}): a link to {pickle.resolve()}, "
                f"outside {pickle_dir}; not copied")
            continue
        info = db.blobs.put_file(pickle)
        found.append(NodeValue(
            node_id=row["node_id"], execution_id=row["execution_id"], value=info.key,
            value_type=row["value_type"], start_time=when(row["start_time"]),
            end_time=when(row["end_time"])))
    return found


def _write(db: GraphLineaDB, graph: SessionGraph, report: ImportReport,
           complete: bool, node_count: int) -> None:
    """One commit: the session, its code, nodes (none when they are stored already),
    edges, variables, values and artifacts, or nothing; then the session is marked as
    wholly imported, with the ``node_count`` nodes the file holds for it."""
    sid = graph.context.id
    try:
        done = db.write_session(graph)
    except StoreUnavailableError as err:
        raise StoreUnavailableError(
            f"session {sid} could not be imported: {err}. Run the import again "
            "once Neo4j answers: sessions already imported are skipped") from None
    except LineagraphError as err:
        raise ImportError_(f"session {sid} could not be imported: {err}") from None
    if complete:
        report.sessions_skipped += 1
    else:
        db.write("importer.mark_session_complete", session_id=sid, nodes=node_count)
        report.sessions_imported += 1
        report.nodes_imported += done.stats.nodes
        report.edges_imported += done.stats.edges
        report.variables_imported += sum(len(names) for names in graph.variables.values())
    report.values_imported += done.values_written
    report.values_skipped += done.values_skipped
    report.artifacts_imported += done.artifacts_written
    report.artifacts_skipped += done.artifacts_skipped
    report.artifact_conflicts += done.artifact_conflicts


def summarize(report: ImportReport) -> Iterable[tuple[str, str]]:
    yield "sessions", f"{report.sessions_imported} imported, {report.sessions_skipped} already there"
    yield "nodes", str(report.nodes_imported)
    yield "dependencies", str(report.edges_imported)
    yield "variables", str(report.variables_imported)
    yield "values", (f"{report.values_imported} imported, {report.values_skipped} already "
                     f"there, {len(report.values_missing)} missing")
    yield "artifacts", (f"{report.artifacts_imported} imported, {report.artifacts_skipped} "
                        f"already there, {len(report.artifact_conflicts)} conflicts")
    for table, rows in report.skipped_tables.items():
        yield f"skipped {table}", f"{rows} rows (not imported)"
    yield "time", (f"{report.seconds:.2f} s ({report.nodes_per_second:,.0f} nodes/s), "
                   f"{report.read_seconds:.2f} s of it reading and checking the file")
