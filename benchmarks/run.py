"""Benchmarks of lineagraph against LineaPy 0.2.3's SQLite store and Neo4j's write floor.

For each size the runner builds one LineaPy-shaped session (``benchmarks/workload.py``),
pickles it, and hands it to two fresh processes:

1. LineaPy's side (``benchmarks/lineapy_side.py`` under ``benchmarks/.lineapy-venv``):
   writes, reads and slices with ``RelationalLineaDB`` on SQLite, keeps its SQLite file;
2. our side (this file with ``--worker``): one ``GraphLineaDB.commit()`` per repeat, the
   raw ``UNWIND`` floor through the same driver (its data deleted once timed, so that
   what follows runs on lineagraph's data only), ``get_nodes_for_session``,
   ``get_artifact_by_name``, the 50-node slice and the process's peak RSS
   (``ru_maxrss``, so one process per size);
3. the import of LineaPy's file (this file with ``--worker`` and ``--import-only``), in a
   process of its own: after a size's other measures, the worker's state slowed reading
   1,000,000 nodes from 56 s (a fresh process) to 264 s.

It prints a table per measure and, with ``--write-md``, regenerates BENCHMARKS.md.

Connection: ``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` when set, else
lineagraph's managed server of ``LINEAGRAPH_HOME`` (started if needed). Every run uses
new ids; ``--wipe`` deletes all data of the database first.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import importlib.metadata
import json
import os
import pickle
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import neo4j
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import workload  # noqa: E402

from lineagraph import GraphLineaDB  # noqa: E402
from lineagraph import config as lineagraph_config  # noqa: E402
from lineagraph.config import ConnectionSettings  # noqa: E402
from lineagraph.connection import open_driver  # noqa: E402
from lineagraph.environment import resolve_settings  # noqa: E402
from lineagraph.mapping import NODE_LABELS, node_to_row  # noqa: E402
from lineagraph.models import (  # noqa: E402
    Artifact,
    Execution,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
    node_from_dict,
)
from bench_queries import queries  # noqa: E402
from lineagraph.store import DEFAULT_BATCH_SIZE  # noqa: E402
from lineagraph.store.reads import READ_PAGE  # noqa: E402
from lineagraph.store.unit import edge_statements, new_node_statements  # noqa: E402

LINEAPY_PYTHON = HERE / ".lineapy-venv" / "bin" / "python"
LARGE = 100_000  # from this size on, LineaPy's side and our reads run fewer repeats
HUGE = 1_000_000  # from this size on, our writes run --huge-repeat times (minutes each)
# the order of ours (0) and the floor's shapes (1-3, FLOOR_SHAPES) in repeat k: row k % 4
# of a Williams design, where each measure runs once in each place and directly after
# each other measure once
ORDERS = ((0, 1, 3, 2), (1, 2, 0, 3), (2, 3, 1, 0), (3, 0, 2, 1))
console = Console(stderr=True)


# -- our side (one process per size) ----------------------------------------------------------
def settings_from_environment() -> tuple[ConnectionSettings, str]:
    if os.environ.get("NEO4J_URI"):
        return resolve_settings(), "NEO4J_URI"
    from lineagraph.server import ManagedServer

    server = ManagedServer()
    server.start()
    return server.connection_settings(), f"managed server in {server.home}"


def models(session: dict[str, Any]) -> dict[str, Any]:
    """lineagraph's pydantic models of a plain session (not timed)."""
    row = session["source_code"]
    code = SourceCode(id=row["id"], code=row["code"], location=Path(row["path"]))
    nodes = []
    for n in session["nodes"]:
        loc = n["source_location"]
        fields = dict(n, source_location=None if loc is None else
                      SourceLocation(**{**loc, "source_code": code}))
        nodes.append(node_from_dict(fields))
    context = dict(session["context"],
                   environment_type=SessionType[session["context"]["environment_type"]])
    return {"execution": Execution(**session["execution"]),
            "context": SessionContext(**context), "code": code, "nodes": nodes,
            "variables": session["variables"],
            "artifacts": [Artifact(**a) for a in session["artifacts"]]}


def warm_up_sizes(size: int, transaction_nodes: int) -> list[int]:
    """The warm-up's sessions before timing sessions of ``size`` nodes, one of each
    kind a commit of that size sends: small (one statement for all of a label's located
    nodes), up to ``transaction_nodes`` in one transaction (a statement for those of one
    source code), and staged (more than one transaction)."""
    if size > transaction_nodes:  # staged: its parts' statements, and the publishing
        return [200, transaction_nodes + 2000]  # transaction's few rows
    return sorted({200, size})


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


FLOOR_SHAPES = ("maps", "lists", "elements")


def floor_write(driver: neo4j.Driver, database: str | None, session: dict[str, Any],
                m: dict[str, Any], batch: int, shape: str, per_transaction: int,
                workers: int = 1) -> float:
    """The same nodes and relationships written by minimal CREATE-only UNWIND statements
    of ``shape`` (floor.cypher; no checks, no MERGE), at most ``per_transaction`` nodes
    (and twice as many edges) per transaction, as the store's commit does, ``workers``
    of them at once as its staged commit does (the first node transaction, which writes
    the session, and the last edge one, which writes the artifacts, alone); returns the
    seconds of all its transactions."""
    q = queries()
    rows = [node_to_row(n) for n in m["nodes"]]
    variables: dict[str, list[str]] = {}
    for node_id, name in m["variables"]:
        variables.setdefault(node_id, []).append(name)
    for row in rows:
        if row["id"] in variables:
            row["props"] = dict(row["props"], variables=variables[row["id"]])
    code = m["code"]
    sid = session["session_id"]
    head = {"session": {"id": sid, "props": {"id": sid}},
            "execution": session["execution"],
            "code": {"id": code.id, "code": code.code, "path": str(code.location)}}

    def node_statements(chunk: list[dict]):
        if shape == "maps":
            for start in range(0, len(chunk), batch):
                yield q["benchmarks.floor_nodes"], [
                    {k: r[k] for k in ("label", "props", "location")}
                    for r in chunk[start:start + batch]]
            return
        by_label: dict[str, list] = {}
        for r in chunk:
            by_label.setdefault(r["label"], []).append(
                [r["props"], r["location"] and r["location"]["position"]])
        name = ("benchmarks.floor_nodes_elements" if shape == "elements"
                else "benchmarks.floor_nodes_lists")
        for label, group in by_label.items():
            query = q[name].naming("FloorLabel", label, NODE_LABELS.values())
            for start in range(0, len(group), batch):
                yield query, group[start:start + batch]

    if shape == "maps":
        edges = [dict(e, src=r["id"]) for r in rows for e in r["edges"]]
        edge_query = q["benchmarks.floor_edges"]
    else:
        edges = [[r["id"], e["dst"], e["type"], e["props"]] for r in rows for e in r["edges"]]
        edge_query = q["benchmarks.floor_edges_elements" if shape == "elements"
                       else "benchmarks.floor_edges_lists"]
    node_chunks = [rows[i:i + per_transaction] for i in range(0, len(rows), per_transaction)]
    edge_step = 2 * per_transaction
    element_ids: dict[str, str] = {}  # shape `elements`: what the node statements returned

    local = threading.local()
    opened: list[neo4j.Session] = []

    def in_own_session(work: Callable, chunk: list, *flags: bool):
        if not hasattr(local, "session"):
            local.session = driver.session(database=database)
            opened.append(local.session)
        return local.session.execute_write(work, chunk, *flags)

    def in_parallel(work: Callable, chunks: list[list]) -> list:
        if workers == 1 or len(chunks) <= 1:
            return [in_own_session(work, chunk, False) for chunk in chunks]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda chunk: in_own_session(work, chunk, False), chunks))

    def nodes_tx(tx: neo4j.ManagedTransaction, chunk: list, first: bool) -> dict:
        if first:
            tx.run(q["benchmarks.floor_head"].text, head).consume()
        found: dict[str, str] = {}
        for query, part in node_statements(chunk):
            result = tx.run(query.text, rows=part, session_id=sid, code_id=code.id)
            if shape == "elements":
                found.update(result.single()["element_ids"])
            result.consume()
        return found

    def edges_tx(tx: neo4j.ManagedTransaction, chunk: list, last: bool) -> None:
        for start in range(0, len(chunk), batch):
            tx.run(edge_query.text, rows=chunk[start:start + batch]).consume()
        if last:
            tx.run(q["benchmarks.floor_artifacts"].text, rows=session["artifacts"]).consume()

    started = time.perf_counter()
    try:
        element_ids.update(in_own_session(nodes_tx, node_chunks[0], True))
        for found in in_parallel(nodes_tx, node_chunks[1:]):
            element_ids.update(found)
        if shape == "elements":  # the edges' ends by element id, timed as ours are
            edges = [[element_ids[e[0]], element_ids[e[1]], e[2], e[3]] for e in edges]
        edge_chunks = [edges[i:i + edge_step] for i in range(0, len(edges), edge_step)]
        edge_chunks = edge_chunks or [[]]
        in_parallel(edges_tx, edge_chunks[:-1])
        in_own_session(edges_tx, edge_chunks[-1], True)
    finally:
        for opened_session in opened:
            opened_session.close()
    return time.perf_counter() - started


def profile(db: GraphLineaDB, base: dict[str, Any]) -> dict:
    """PROFILE of the hot queries, their writes rolled back, their reads on the session
    of the first write: {name: {db_hits, rows, plan, params}}."""
    from lineagraph.mapping import DEPENDENCY_TYPES

    session = workload.tagged(base, "pf-")
    m = models(session)

    rows = [node_to_row(n) for n in m["nodes"]]
    sid = session["session_id"]
    first = workload.tagged(base, "lg0-")
    # the largest statement of each kind the commit sends (one label, one type)
    nodes = max(new_node_statements(rows, db.batch_size), key=lambda s: len(s[1]["rows"]))
    edges = max(edge_statements(rows, db.batch_size), key=lambda s: len(s[1]["rows"]))
    cases = [
        ("store.existing_node_ids", {"ids": [r["id"] for r in rows[:db.batch_size]]}),
        (nodes[0], nodes[1]),
        (edges[0], edges[1]),
        ("store.nodes_for_session", {"session_id": first["session_id"], "after": "",
                                     "page": READ_PAGE,
                                     "dependency_types": DEPENDENCY_TYPES}),
        ("store.artifact_by_name", {"name": first["slice"]["artifact"], "version": None}),
        ("slicing.ancestors", {"ids": [first["slice"]["node_id"]],
                               "session_id": first["session_id"], "known": []}),
    ]
    out = {}
    with db.driver.session(database=db.database) as s:
        # the profiled writes need the session, its code and (for edges) the nodes
        tx = s.begin_transaction()
        try:
            tx.run(queries()["store.write_sessions"].text, rows=[{
                "id": sid, "execution_id": "none", "props": {"id": sid}}]).consume()
            tx.run(queries()["store.write_source_code"].text, rows=[{
                "id": m["code"].id, "props": {"id": m["code"].id, "code": "",
                                              "path": "/x.py"}}]).consume()
            known: dict[str, str] = {}  # element ids the node statements returned
            # the other ends of the profiled edge batch (at most two per edge: a bounded
            # transaction at any size), so that every edge of it finds both ends
            written = {r[0]["id"] for r in nodes[1]["rows"]}
            ends = {i for e in edges[1]["rows"] for i in e[:2]} - written
            for query, params in new_node_statements([r for r in rows if r["id"] in ends],
                                                     db.batch_size):
                for record in tx.run(query.text, params):
                    known.update(record["element_ids"])
            for name, params in cases:
                query = queries()[name] if isinstance(name, str) else name
                name = query.name
                result = tx.run("PROFILE " + query.text, params)
                records = list(result)
                for record in records:
                    known.update(record.data().get("element_ids") or [])
                plan = result.consume().profile
                out[name] = {"db_hits": _hits(plan), "rows": len(records),
                             "plan": _plan_lines(plan),
                             "params": {k: (len(v) if isinstance(v, list) else v)
                                        for k, v in params.items()
                                        if k != "dependency_types"}}
                if name == edges[0].name and known:
                    # the same edges as the commit sends them: ends by element id
                    by_element = [[known[e[0]], known[e[1]], e[2], e[3], e[0], e[1]]
                                  for e in edges[1]["rows"] if e[0] in known and e[1] in known]
                    query = queries()["store.write_edges_by_element_id"]
                    result = tx.run("PROFILE " + query.text, rows=by_element)
                    n = len(list(result))
                    plan = result.consume().profile
                    out[query.name] = {"db_hits": _hits(plan), "rows": n,
                                       "plan": _plan_lines(plan),
                                       "params": {"rows": len(by_element)}}
        finally:
            tx.rollback()
    return out


def _hits(plan: dict) -> int:
    return (plan.get("dbHits") or 0) + sum(_hits(c) for c in plan.get("children", []))


def _plan_lines(plan: dict, depth: int = 0) -> list[str]:
    details = str(plan.get("args", {}).get("Details", ""))
    if len(details) > 100:
        details = details[:97] + "..."
    out = [f"{'  ' * depth}{plan['operatorType'].split('@')[0]:<28} "
           f"rows={plan.get('rows', 0):<7} dbHits={plan.get('dbHits', 0):<8} {details}"]
    for child in plan.get("children", []):
        out += _plan_lines(child, depth + 1)
    return out


class ServerMemory:
    """The server's memory while a measure runs, sampled every ``interval`` seconds by a
    thread of its own: the largest ``estimatedUsedHeapMemory`` of a transaction (what
    Neo4j's transaction memory limit weighs; SHOW TRANSACTIONS) and the largest JVM heap
    in use (``dbms.queryJmx``; garbage not yet collected included)."""

    def __init__(self, driver: neo4j.Driver, database: str | None, interval: float = 0.1):
        self.driver, self.database, self.interval = driver, database, interval
        self.peaks: dict[str, dict[str, int]] = {}

    @contextlib.contextmanager
    def measure(self, name: str):
        peak = self.peaks.setdefault(name, {"transaction": 0, "heap": 0})
        stop = threading.Event()

        def sample() -> None:
            q = queries()
            while not stop.is_set():
                try:
                    tx, _, _ = self.driver.execute_query(
                        q["benchmarks.transaction_memory"].text, database_=self.database)
                    heap, _, _ = self.driver.execute_query(
                        q["benchmarks.heap_used"].text, database_=self.database)
                    peak["transaction"] = max(peak["transaction"], tx[0]["bytes"] or 0)
                    peak["heap"] = max(peak["heap"], heap[0]["bytes"] or 0)
                except neo4j.exceptions.Neo4jError:
                    pass
                stop.wait(self.interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def remove_floor(driver: neo4j.Driver, database: str | None) -> None:
    """Delete what the floor wrote (not timed): the measures after it, and the next
    sizes, then run on a store holding lineagraph's data only."""
    with driver.session(database=database) as session:  # IN TRANSACTIONS: auto-commit
        session.run(queries()["benchmarks.floor_delete_relationships"].text).consume()
        session.run(queries()["benchmarks.floor_delete_nodes"].text).consume()


def write_with_store(db: GraphLineaDB, m: dict[str, Any]) -> None:
    """Buffer a whole session in ``db`` (what LineaPy's tracer would write)."""
    db.write_execution(m["execution"])
    db.write_context(m["context"])
    db.write_source_code(m["code"])
    for node in m["nodes"]:
        db.write_node(node)
    for node_id, name in m["variables"]:
        db.write_assigned_variable(node_id, name)
    for artifact in m["artifacts"]:
        db.write_artifact(artifact)


def import_worker(args: argparse.Namespace) -> int:
    """The import of LineaPy's file (``--lineapy-db``) of one size, in a fresh process;
    writes a JSON result to --out."""
    from lineagraph.importer import import_lineapy

    with open(args.worker, "rb") as f:
        size = len(pickle.load(f)["nodes"])
    with bench_store(args) as (settings, driver, db):
        memory = ServerMemory(driver, settings.database)
        records, _, _ = driver.execute_query(
            queries()["benchmarks.store_node_count"].text, database_=settings.database)
        stored = records[0]["nodes"]
        with memory.measure("import"):
            report = import_lineapy(db, args.lineapy_db)
        if report.nodes_imported != size:
            raise SystemExit(f"imported {report.nodes_imported} nodes, expected {size}")
        out = {"import": {"seconds": report.seconds, "nodes": report.nodes_imported,
                          "edges": report.edges_imported, "store_nodes_before": stored,
                          "read_seconds": report.read_seconds,
                          "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss},
               "server_memory": memory.peaks}
        console.print(f"  import: {report.nodes_imported} nodes in {report.seconds:.2f} s "
                      f"({report.read_seconds:.2f} s reading and checking the file)")
    Path(args.out).write_text(json.dumps(out))
    return 0


@contextlib.contextmanager
def bench_store(args: argparse.Namespace, settings: ConnectionSettings | None = None):
    """A driver to ``settings`` (by default from the environment, or the managed server)
    and a store over a temporary blob directory, removed afterwards, with
    ``args.batch_size``; yields (settings, driver, store)."""
    if settings is None:
        settings, _ = settings_from_environment()
    driver = open_driver(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="lineagraph-bench-blobs-") as blobs:
            db = GraphLineaDB(driver, database=settings.database, blobs=Path(blobs),
                              batch_size=args.batch_size)
            try:
                yield settings, driver, db
            finally:
                db.close()
    finally:
        driver.close()


def worker(args: argparse.Namespace) -> int:
    """Our side for one size but the import; writes a JSON result to --out."""
    from lineagraph.slicing import ensure_slicing_index, get_program_slice

    with open(args.worker, "rb") as f:
        base = pickle.load(f)
    size = len(base["nodes"])
    reads = args.read_repeat or (3 if size >= LARGE else 5)
    out: dict[str, Any] = {"nodes": size, "edges": workload.edge_count(base)}
    with bench_store(args) as (settings, driver, db):
        db.ensure_schema()
        ensure_slicing_index(db)
        for name in ("benchmarks.floor_constraint", "benchmarks.floor_session_constraint",
                     "benchmarks.floor_code_constraint"):
            driver.execute_query(queries()[name].text, database_=settings.database)
        driver.execute_query(queries()["slicing.bench_await_indexes"].text,
                             database_=settings.database)

        # warm-up (not timed): the server plans each query once, the driver connects.
        # Which statements a commit sends depends on its size (a label's located nodes
        # get a statement of their own from unit.CODE_GROUP on, and a unit above
        # transaction_nodes is staged), so one session of each kind: with 200 nodes
        # only, the first timed commit planned its other statements (1.26 s against
        # 0.86 s for the next at 10,000 nodes).
        for n in warm_up_sizes(size, db.transaction_nodes):
            warm = workload.build(n, f"w{n}{base['session_id']}")
            write_with_store(db, models(warm))
            db.commit()
            for shape in FLOOR_SHAPES:
                floor_write(driver, settings.database, workload.tagged(warm, "fl" + shape),
                            models(workload.tagged(warm, "fl" + shape)), args.batch_size,
                            shape, db.transaction_nodes, db.write_workers)
                remove_floor(driver, settings.database)

        memory = ServerMemory(driver, settings.database)
        # ours and the floor alternate, so that a change of load on this shared machine
        # weighs on both alike, in the orders of a balanced Latin square (ORDERS): over
        # four repeats each measure runs once in each place and follows each other one
        # once (a measure after a floor shape runs after that floor's delete)
        buffer, commit, statements, in_tx, transactions = [], [], [], [], []
        shapes: dict[str, list[float]] = {shape: [] for shape in FLOOR_SHAPES}

        def ours(k: int) -> None:
            session = workload.tagged(base, f"lg{k}-")
            m = models(session)
            started = time.perf_counter()
            write_with_store(db, m)
            buffered = time.perf_counter()
            with memory.measure("commit"):
                stats = db.commit()
            done = time.perf_counter()
            buffer.append(buffered - started)
            commit.append(done - buffered)
            statements.append(stats.statements)
            in_tx.append(stats.seconds)
            if (stats.nodes, stats.edges) != (size, out["edges"]):
                raise SystemExit(f"commit wrote {stats.nodes} nodes, {stats.edges} edges; "
                                 f"expected {size}, {out['edges']}")
            transactions.append(stats.transactions)

        def floor(shape: str, k: int) -> None:
            session = workload.tagged(base, f"fl{shape}{k}-")
            m = models(session)
            with memory.measure(f"floor ({shape})"):
                shapes[shape].append(floor_write(driver, settings.database, session, m,
                                                 args.batch_size, shape,
                                                 db.transaction_nodes, db.write_workers))
            remove_floor(driver, settings.database)

        measures = ["ours", *FLOOR_SHAPES]
        for k in range(args.repeat):
            for measure in (measures[i] for i in ORDERS[k % len(ORDERS)]):
                if measure == "ours":
                    ours(k)
                else:
                    floor(measure, k)
            console.print(f"  {k + 1}/{args.repeat}: lineagraph commit {commit[-1]:.2f} s "
                          f"(+{buffer[-1]:.2f} s write_*, {transactions[-1]} transaction(s)), "
                          "UNWIND floor " + ", ".join(f"{s} {v[-1]:.2f} s"
                                                      for s, v in shapes.items()))
        # the floor: the faster shape (by median)
        best = min(FLOOR_SHAPES, key=lambda s: statistics.median(shapes[s]))
        out.update(buffer=buffer, commit=commit, statements=statements, floor=shapes[best],
                   floor_shape=best, floor_shapes=shapes, commit_transaction=in_tx,
                   transactions=transactions)

        first = workload.tagged(base, "lg0-")
        sid, name = first["session_id"], first["slice"]["artifact"]

        def read_nodes() -> None:
            db.clear_cache()
            assert len(db.get_nodes_for_session(sid)) == size

        def read_artifact() -> None:
            assert db.get_artifact_by_name(name).node_id == first["slice"]["node_id"]

        def slice_() -> None:
            assert len(get_program_slice(db, [name]).node_ids) == workload.SLICE_NODES

        read_nodes()
        with memory.measure("get_nodes_for_session"):
            out["get_nodes_for_session"] = timed(read_nodes, reads)
        read_artifact()
        out["get_artifact_by_name"] = timed(read_artifact, 50)
        for _ in range(3):
            slice_()
        with memory.measure("slice"):
            out["slice"] = timed(slice_, 20)
        console.print(f"  reads: get_nodes_for_session "
                      f"{statistics.median(out['get_nodes_for_session']):.2f} s, "
                      f"slice {statistics.median(out['slice']) * 1000:.1f} ms")

        out["server_memory"] = memory.peaks
        if args.profile:
            out["profile"] = profile(db, base)
        out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path(args.out).write_text(json.dumps(out))
    return 0


# -- the runner -------------------------------------------------------------------------------
def machine_facts(settings: ConnectionSettings) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                   .splitlines() if line.startswith("MemTotal"))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    driver = open_driver(settings)
    try:
        records, _, _ = driver.execute_query(queries()["admin.components"].text,
                                             routing_=neo4j.RoutingControl.READ)
        server = f"{records[0]['name']} {records[0]['version']}"
    finally:
        driver.close()
    try:
        rust = "on (neo4j-rust-ext " + importlib.metadata.version("neo4j-rust-ext") + ")"
    except importlib.metadata.PackageNotFoundError:
        rust = "off"
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "OS": platform.platform(),
        "Python (lineagraph)": platform.python_version(),
        "Java": (java.stderr.splitlines() or ["?"])[0],
        "Neo4j": server,
        "neo4j driver": neo4j.__version__,
        "neo4j-rust-ext": rust,
        "batch size": "",
    }


def med(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def run_lineapy(path: Path, keep: Path, size: int, repeat: int, shipped: int,
                reads: int | None, chunk: int = 0) -> dict[str, Any] | None:
    cmd = [str(LINEAPY_PYTHON), str(HERE / "lineapy_side.py"), str(path),
           "--repeat", str(repeat if size < LARGE else 1),
           "--read-repeat", str(reads or (5 if size < 10_000 else 3 if size < LARGE else 1)),
           "--shipped-repeat", str(shipped), "--keep", str(keep), "--chunk", str(chunk)]
    env = dict(os.environ, LINEAPY_HOME_DIR=str(keep.parent / "lineapy-home"))
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
    if done.returncode != 0:
        console.print(f"[red]LineaPy's side failed (exit {done.returncode}) at {size} nodes[/]")
        return {"failed": f"exit status {done.returncode}", "write": [],
                "write_shipped": [], "errors": {}}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_ours(path: Path, lineapy_db: Path | None, args: argparse.Namespace,
             profile_it: bool) -> dict[str, Any]:
    out = path.with_suffix(".ours.json")
    size = int(path.stem.split("-")[-1])
    repeat = writes_repeat(args, size)
    cmd = [sys.executable, __file__, "--worker", str(path), "--out", str(out),
           "--repeat", str(repeat), "--batch-size", str(args.batch_size)]
    if args.read_repeat:
        cmd += ["--read-repeat", str(args.read_repeat)]
    if profile_it:
        cmd.append("--profile")
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise SystemExit(f"lineagraph's side failed ({done.returncode})")
    result = json.loads(out.read_text())
    if lineapy_db is not None:
        cmd = [sys.executable, __file__, "--worker", str(path), "--out", str(out),
               "--batch-size", str(args.batch_size), "--import-only",
               "--lineapy-db", str(lineapy_db)]
        done = subprocess.run(cmd, check=False)
        if done.returncode != 0:
            raise SystemExit(f"lineagraph's import failed ({done.returncode})")
        imported = json.loads(out.read_text())
        result["import"] = imported["import"]
        result["server_memory"].update(imported["server_memory"])
    return result


def writes_repeat(args: argparse.Namespace, size: int) -> int:
    """How often our writes (and the floor's) run at ``size``."""
    if size >= HUGE:
        return min(args.repeat, args.large_repeat, args.huge_repeat)
    return args.repeat if size < LARGE else min(args.repeat, args.large_repeat)


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def fmt_rate(n: int, s: float | None) -> str:
    return "—" if not s else f"{n / s:,.0f}"


def fmt_x(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def build_tables(results: dict[int, dict], args: argparse.Namespace) -> list[dict]:
    """Each table: title, note, header, rows (strings)."""
    tables = []
    rows = []
    for size, r in results.items():
        ours, lp = r["ours"], r.get("lineapy") or {}
        commit = med(ours["commit"])
        total = med([b + c for b, c in zip(ours["buffer"], ours["commit"])])
        floor = med(ours["floor"])
        lp_one, lp_ship = med(lp.get("write")), med(lp.get("write_shipped"))
        rows.append([
            f"{size:,}", f"{ours['edges']:,}", fmt_s(commit),
            fmt_rate(size, commit), fmt_rate(ours["edges"], commit),
            str(max(ours.get("transactions") or [1])),
            fmt_s(med(ours["commit_transaction"])), fmt_s(total),
            f"{fmt_s(floor)} ({ours.get('floor_shape', 'maps')})",
            fmt_x(ratio(commit, floor)),
            f"{fmt_s(lp_one)} (n={len(lp.get('write', []))})",
            fmt_x(ratio(lp_one, total)),
            f"{fmt_s(lp_ship)} (n={len(lp.get('write_shipped', []))})",
            fmt_x(ratio(lp_ship, total)),
        ])
    tables.append({
        "title": "Write",
        "note": (
            f"lineagraph: `commit()` of one whole session (median of {args.repeat}"
            + (f", of {writes_repeat(args, LARGE)} from {LARGE:,} nodes on"
               if max(results) >= LARGE else "")
            + (f", of {writes_repeat(args, HUGE)} from {HUGE:,} on"
               if max(results) >= HUGE else "") + "); "
            "`transactions`: how many it took (a unit of more than "
            "`LINEAGRAPH_TRANSACTION_NODES`, default 2,500, nodes is written in bounded "
            "transactions, `LINEAGRAPH_WRITE_WORKERS`, default 2, at once, and published "
            "by the last; `lineagraph.store.staging`); "
            "`of which transaction`: its `CommitStats.seconds` (its transactions; "
            "the rest is bookkeeping after them, mainly the read cache); "
            "`+ write_*` adds the buffered `write_*` calls before it (mapping and checks), "
            "the same unit of work LineaPy's columns time. Floor: the same nodes and "
            "relationships written by hand-written CREATE-only `UNWIND` statements "
            "(`benchmarks/cypher/benchmarks/floor.cypher`) through the same driver, with "
            "the same batch size, at most as many nodes per transaction and as many "
            "transactions at once; of its three "
            "shapes (table \"Floor shapes\") the fastest, named in brackets. LineaPy one "
            "commit: its own `write_*` "
            "methods and `commit()` with `renew_session` made a no-op, so all rows go in one "
            "SQLite transaction; as shipped: LineaPy unmodified, which on SQLite commits "
            "after every write. Ratios > 1 mean lineagraph is faster; `commit / floor` "
            "is our overhead over the floor (lower is better)."),
        "header": ["nodes", "dependency rels", "commit", "nodes/s", "rels/s",
                   "transactions", "of which transaction", "commit + write_*", "UNWIND floor", "commit / floor",
                   "LineaPy one commit", "LineaPy / ours", "LineaPy as shipped",
                   "shipped / ours"],
        "rows": rows,
    })
    rows = []
    for size, r in results.items():
        shapes = r["ours"].get("floor_shapes") or {}
        rows.append([f"{size:,}"] + [fmt_s(med(shapes.get(s))) for s in FLOOR_SHAPES] + [
            fmt_x(ratio(med(shapes.get("lists")), med(shapes.get("maps")))),
            fmt_x(ratio(med(shapes.get("elements")), med(shapes.get("lists")))),
            fmt_x(ratio(med(r["ours"]["commit"]), med(shapes.get("elements"))))])
    tables.append({
        "title": "Floor shapes",
        "note": ("The floor's three shapes, each run once per repeat with our commit, "
                 "in the orders of a balanced Latin square (over four repeats each of the "
                 "four runs once in each place and directly after each other one once; "
                 "`ORDERS` in benchmarks/run.py): "
                 "`maps` writes every node type in one statement with a dynamic label "
                 "(`$(row.label)`) and rows as maps; `lists` one statement per type label, "
                 "the label written into the query, rows as lists; `elements` is `lists` "
                 "with the edges' ends found by the element ids the node statements "
                 "returned (the shape our commit uses). Medians."),
        "header": ["nodes", "maps", "lists", "elements", "lists / maps", "elements / lists",
                   "our commit / elements"],
        "rows": rows,
    })
    rows = []
    measures = ["commit", *(f"floor ({s})" for s in FLOOR_SHAPES), "get_nodes_for_session",
                "slice", "import"]
    for size, r in results.items():
        peaks = r["ours"].get("server_memory") or {}
        rows.append([f"{size:,}"] + [
            "—" if m not in peaks else
            f"{peaks[m]['transaction'] / 2**20:,.0f} / {peaks[m]['heap'] / 2**20:,.0f} MiB"
            for m in measures])
    tables.append({
        "title": "Server memory",
        "note": ("Per measure, sampled every 0.1 s while it ran: the largest "
                 "`estimatedUsedHeapMemory` of any transaction (`SHOW TRANSACTIONS`; what "
                 "Neo4j's transaction memory limit weighs) / the largest JVM heap in use "
                 "(`dbms.queryJmx`, garbage not yet collected included; the server's heap "
                 "is its maximum)."),
        "header": ["nodes", *measures],
        "rows": rows,
    })
    rows = []
    growth = [("commit", lambda o: med(o["commit"])), ("floor", lambda o: med(o["floor"])),
              ("get_nodes_for_session", lambda o: med(o["get_nodes_for_session"])),
              ("import", lambda o: (o.get("import") or {}).get("seconds"))]
    for label, get in growth:
        cells = []
        for size, r in results.items():
            value = get(r["ours"])
            cells.append("—" if not value else f"{value / size * 1e6:,.1f} µs")
        rows.append([label, *cells])
    slices = [med(r["ours"]["slice"]) for r in results.values()]
    rows.append(["slice (whole, 50 nodes)", *(fmt_s(s) for s in slices)])
    tables.append({
        "title": "How cost grows",
        "note": ("Time per node of the session (median time / nodes) at each size: flat "
                 "means linear cost. The slice is of a fixed 50-node artifact, so its "
                 "whole time is shown: flat means its cost follows the answer, not the "
                 "session."),
        "header": ["measure", *(f"{s:,}" for s in results)],
        "rows": rows,
    })
    rows = []
    for size, r in results.items():
        ours, lp = r["ours"], r.get("lineapy") or {}
        a, b = med(ours["get_nodes_for_session"]), med(lp.get("get_nodes_for_session"))
        c, d = med(ours["get_artifact_by_name"]), med(lp.get("get_artifact_by_name"))
        rows.append([f"{size:,}", f"{fmt_s(a)} (n={len(ours['get_nodes_for_session'])})",
                     f"{fmt_s(b)} (n={len(lp.get('get_nodes_for_session', []))})",
                     fmt_x(ratio(a, b)), fmt_s(c), fmt_s(d), fmt_x(ratio(c, d))])
    tables.append({
        "title": "Read",
        "note": ("Medians. `get_nodes_for_session` returns every node of the session as "
                 "models; ours empties the read cache first, LineaPy's opens a new "
                 "`RelationalLineaDB` each time. `get_artifact_by_name` is LineaPy 0.2.3's "
                 "`get_artifactorm_by_name` (50 calls). `ours / LineaPy` < 1 means we are "
                 "faster."),
        "header": ["nodes", "get_nodes_for_session (ours)", "LineaPy", "ours / LineaPy",
                   "get_artifact_by_name (ours)", "LineaPy", "ours / LineaPy"],
        "rows": rows,
    })
    rows = []
    smallest = min(results)
    base = med(results[smallest]["ours"]["slice"])
    for size, r in results.items():
        ours, lp = med(r["ours"]["slice"]), med((r.get("lineapy") or {}).get("slice"))
        rows.append([f"{size:,}", fmt_s(ours), fmt_x(ratio(ours, base)),
                     f"{fmt_s(lp)} (n={len((r.get('lineapy') or {}).get('slice', []))})",
                     fmt_x(ratio(lp, ours))])
    tables.append({
        "title": "Slice",
        "note": ("The fixed 50-node slice of the artifact `<session>-slice` (25 lines). "
                 "Ours: `lineagraph.slicing.get_program_slice(db, [name])`, median of 20 "
                 "after 3 warm-up calls. LineaPy: `get_program_slice_by_artifact_name` "
                 "(loads the session's nodes, builds its networkx `Graph`, slices) on a "
                 "new `RelationalLineaDB` each time."),
        "header": ["nodes", "ours", f"ours / ours at {smallest:,}", "LineaPy",
                   "LineaPy / ours"],
        "rows": rows,
    })
    rows = []
    for size, r in results.items():
        imp = r["ours"].get("import")
        if imp:
            before = imp.get("store_nodes_before")
            read = imp.get("read_seconds")
            rows.append([f"{size:,}", f"{imp['nodes']:,}", f"{imp['edges']:,}",
                         fmt_s(imp["seconds"]), fmt_s(read),
                         fmt_s(None if read is None else imp["seconds"] - read),
                         fmt_s(med(r["ours"]["commit"])),
                         fmt_rate(imp["nodes"], imp["seconds"]),
                         "—" if before is None else f"{before:,}"])
        else:
            rows.append([f"{size:,}"] + ["—"] * 8)
    tables.append({
        "title": "Import",
        "note": ("`import_lineapy(db, path)` of the SQLite file LineaPy wrote (one copy of "
                 "the session), once per size, in a fresh process of its own, into the "
                 "same Neo4j database; seconds as "
                 "the importer reports them: `reading` is reading the SQLite file and "
                 "checking it whole (Python, before any write), `writing` the rest (the "
                 "schema check, copying pickles, building the session's rows and "
                 "committing them), beside our `commit` "
                 "of the same session (median, Write above). `store nodes before`: what "
                 "the database held when the import began (every earlier measure's data "
                 "but the floor's, which is removed once timed); the managed server's "
                 "page cache is 512 MiB."),
        "header": ["nodes", "nodes imported", "edges imported", "time", "reading",
                   "writing", "commit", "nodes/s", "store nodes before"],
        "rows": rows,
    })
    rows = []
    for size, r in results.items():
        lp = (r.get("lineapy") or {}).get("maxrss_kib")
        imported = (r["ours"].get("import") or {}).get("maxrss_kib")
        rows.append([f"{size:,}", f"{r['ours']['maxrss_kib'] / 1024:,.0f} MiB",
                     "—" if imported is None else f"{imported / 1024:,.0f} MiB",
                     "—" if lp is None else f"{lp / 1024:,.0f} MiB"])
    tables.append({
        "title": "Memory",
        "note": ("Peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) of a fresh process "
                 "per size that did everything above for that size but the import (build "
                 "the models of each write's copy, commits, floor, reads, slices), of the "
                 "import's process, and of LineaPy's process (writes, reads, slices)."),
        "header": ["nodes", "lineagraph process", "import process", "LineaPy process"],
        "rows": rows,
    })
    return tables


def spread(ours: dict[str, Any]) -> str:
    """How far one repeat's commit / floor can be from the medians' ratio: the range
    of the ratios of each repeat's commit to the same repeat's floor (of the fastest
    shape), and how many repeats."""
    ratios = sorted(c / f for c, f in zip(ours["commit"], ours["floor"]))
    if len(ratios) < 2:
        return "1 repeat"
    return (f"per repeat {ratios[0]:.2f}x-{ratios[-1]:.2f}x, their median "
            f"{statistics.median(ratios):.2f}x, n={len(ratios)}")


def targets(results: dict[int, dict]) -> list[tuple[str, str, str]]:
    out = []

    def lineapy(size: int, key: str) -> float | None:
        return med(((results.get(size) or {}).get("lineapy") or {}).get(key))

    def why(size: int, key: str) -> str:
        lp = (results.get(size) or {}).get("lineapy") or {}
        reason = (lp.get("errors") or {}).get(key) or lp.get("failed")
        return f"LineaPy's {key} at {size:,} nodes could not be measured" + (
            f": {reason}" if reason else "")

    r = results.get(10_000)
    lp = lineapy(10_000, "write")
    if r and lp:
        ours = med([b + c for b, c in zip(r["ours"]["buffer"], r["ours"]["commit"])])
        shipped = lineapy(10_000, "write_shipped")
        x = lp / ours
        text = f"LineaPy one commit / ours (commit + write_*) = {x:.2f}x"
        if shipped:
            text += f"; LineaPy as shipped / ours = {shipped / ours:.2f}x"
        verdict = "met" if x >= 5 else "not met against LineaPy in one commit"
        if shipped and x < 5:
            verdict += ("; met" if shipped / ours >= 5 else "; not met") + \
                " against LineaPy as shipped"
        out.append(("commit ≥ 5x LineaPy's SQLite writes at 10,000 nodes", verdict, text))
    worst = max(med(r["ours"]["commit"]) / med(r["ours"]["floor"]) for r in results.values())
    per = ", ".join(f"{s:,}: {med(r['ours']['commit']) / med(r['ours']['floor']):.2f}x"
                    for s, r in results.items())
    out.append(("write time ≤ 1.5x the raw UNWIND floor", "met" if worst <= 1.5 else "not met",
                f"commit / floor: {per}"))
    picked = {s: r for s, r in results.items() if s in (10_000, 100_000)}
    if picked:
        x = {s: med(r["ours"]["commit"]) / med(r["ours"]["floor"]) for s, r in picked.items()}
        out.append(("commit ≤ 1.1x the fastest floor at 10k and 100k",
                    "met" if max(x.values()) <= 1.1 else "not met",
                    "median commit / median floor: " + ", ".join(
                        f"{s:,}: {v:.2f}x ({spread(picked[s]['ours'])})"
                        for s, v in x.items())))
    large = results.get(100_000)
    if large:
        rate = 100_000 / med(large["ours"]["commit"])
        out.append(("≥ 12,000 nodes/s committed at 100k", "met" if rate >= 12_000 else "not met",
                    f"{rate:,.0f} nodes/s"))
        read = med(large["ours"]["get_nodes_for_session"])
        out.append(("get_nodes_for_session of 100k nodes ≤ 2.5 s",
                    "met" if read <= 2.5 else "not met", fmt_s(read)))
        found = large["ours"].get("import") or {}
        imp = found.get("seconds")
        if imp:
            text = fmt_s(imp)
            if found.get("read_seconds") is not None:
                text += (f": {fmt_s(found['read_seconds'])} reading and checking the "
                         f"file, {fmt_s(imp - found['read_seconds'])} writing (our commit "
                         f"of the same session: {fmt_s(med(large['ours']['commit']))})")
            out.append(("import of 100k nodes ≤ 8 s", "met" if imp <= 8 else "not met",
                        text))
    biggest = max(results)
    out.append((f"every size up to {biggest:,} on the server's default memory settings",
                "met", "every measure above ran at every size (a failure stops the run)"))
    small = results.get(1_000)
    if small and large:
        x = med(large["ours"]["slice"]) / med(small["ours"]["slice"])
        text = f"ours at 100,000 / ours at 1,000 = {x:.2f}x"
        verdict = "first part met" if x <= 2 else "first part not met"
        lp = lineapy(100_000, "slice")
        if lp:
            y = lp / med(large["ours"]["slice"])
            text += f"; LineaPy / ours at 100,000 = {y:,.0f}x"
            verdict += "; second part " + ("met" if y >= 20 else "not met")
        else:
            text += "; " + why(100_000, "slice")
            verdict += "; second part not measurable"
        out.append(("slice at 100k ≤ 2x slice at 1k; ≥ 20x faster than LineaPy at 100k",
                    verdict, text))
        lp = lineapy(100_000, "get_nodes_for_session")
        if lp:
            x = med(large["ours"]["get_nodes_for_session"]) / lp
            out.append(("get_nodes_for_session of 100k nodes ≤ 3x LineaPy's",
                        "met" if x <= 3 else "not met", f"ours / LineaPy = {x:.2f}x"))
        else:
            out.append(("get_nodes_for_session of 100k nodes ≤ 3x LineaPy's",
                        "not measurable on LineaPy's side",
                        f"ours: {fmt_s(med(large['ours']['get_nodes_for_session']))}; "
                        + why(100_000, "get_nodes_for_session")))
    return out


def print_tables(tables: list[dict], goals: list[tuple[str, str, str]]) -> None:
    out = Console(width=max(Console().width, 200))
    for t in tables:
        table = Table(title=t["title"])
        for h in t["header"]:
            table.add_column(h, justify="right")
        for row in t["rows"]:
            table.add_row(*row)
        out.print(table)
    table = Table(title="Targets")
    for h in ("target", "result", "numbers"):
        table.add_column(h)
    for g in goals:
        table.add_row(*g)
    out.print(table)


def markdown(tables: list[dict], goals: list, facts: dict, results: dict,
             command: str, started: str, minutes: float) -> str:
    shipped_max = max((s for s, r in results.items()
                       if (r.get("lineapy") or {}).get("write_shipped")), default=0)
    lines = ["# Benchmarks", "",
             "Generated by `benchmarks/run.py`; do not edit by hand (rerun the command "
             "below). Workload: `benchmarks/workload.py` — one synthetic LineaPy 0.2.3-shaped "
             "session per size, in the node-type proportions of the twelve fixtures in "
             "`tests/fixtures/lineapy` (38% calls, 34% lookups, 22% literals, 5% "
             "mutations, <1% imports and globals; 60% located; ~1.2 dependency "
             "relationships per node), with a fixed 50-node slice in its first 25 lines, "
             "10 artifacts and ~4% of nodes assigned to variables.", "",
             "```", command, "```", "",
             f"Run started {started}, took {minutes:.1f} min.", "", "## Machine", "",
             "| fact | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    lines += ["", "This machine is shared with other agents running test suites; the load "
              "averages above show how busy it was. Numbers from a busier run are slower, "
              "on both sides alike when the sides run back to back.", "", "## Targets", "",
              "| target | result | numbers |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in goals]
    for t in tables:
        lines += ["", f"## {t['title']}", "", t["note"], "",
                  "| " + " | ".join(t["header"]) + " |",
                  "|" + "---:|" * len(t["header"])]
        lines += ["| " + " | ".join(row) + " |" for row in t["rows"]]
    failures = [f"- {s:,} nodes: LineaPy's {k} failed: {v}" for s, r in results.items()
                for k, v in ((r.get("lineapy") or {}).get("errors") or {}).items()]
    failures += [f"- {s:,} nodes: LineaPy's side failed: {r['lineapy']['failed']}"
                 for s, r in results.items() if (r.get("lineapy") or {}).get("failed")]
    failures += [f"- {s:,} nodes: LineaPy's side was not run (its one-commit write of "
                 "this many rows takes tens of minutes here); the import read a file "
                 "LineaPy 0.2.3 wrote earlier from the same workload "
                 "(`benchmarks/lineapy_side.py --keep`)"
                 for s, r in results.items() if r.get("lineapy_file")]
    failures += [f"- {s:,} nodes: LineaPy's one-commit write was not timed (above "
                 f"`--lineapy-max`); its file was written with its own `write_*` methods in "
                 f"commits of {r['lineapy']['chunk']:,} nodes, in "
                 f"{fmt_s(med(r['lineapy']['write_chunked']))}, for the import and "
                 "LineaPy's reads"
                 for s, r in results.items() if (r.get("lineapy") or {}).get("write_chunked")]
    if failures:
        lines += ["", "## LineaPy measures that could not be taken", ""] + failures
    lines += ["", "## Differences between the two sides", "",
              "- Durability: Neo4j commits one transaction (its log is flushed once); "
              "LineaPy's one-commit column is one SQLite transaction; LineaPy as shipped "
              "commits (and syncs) after every `write_*` call.",
              "- lineagraph's commit checks every referenced node, session and execution "
              "and refuses duplicate artifacts inside the transaction; each `write_artifact` "
              "also asks the store whether the name and version is taken (10 reads per "
              "session). LineaPy checks nothing (SQLite's foreign keys are off).",
              "- Node values (pickles) are not part of the workload on either side.",
              "- LineaPy 0.2.3's `get_nodes_for_session` joins each located node row with "
              "its whole source code, so its memory grows with nodes times script size "
              "(about 18.7 GB at 100,000 nodes here; its side is capped at 8 GiB and "
              "records the MemoryError); ours is one Cypher query returning nodes, edges "
              "and locations, with each source code fetched once.",
              f"- LineaPy as shipped is measured only up to {shipped_max:,} nodes, once: "
              "it needs one fsync per written row.",
              f"- From {LARGE:,} nodes on, LineaPy's side runs 1 repeat of each measure, "
              "our writes `--large-repeat` (from 1,000,000 on `--huge-repeat`) and our "
              "`get_nodes_for_session` 3 (n= in the "
              "tables), to keep the run near 25 minutes: LineaPy's reads of 100,000 nodes "
              "take minutes each.", ""]
    profiles = next((r["ours"]["profile"] for r in reversed(list(results.values()))
                     if r["ours"].get("profile")), None)
    if profiles:
        size = max(s for s, r in results.items() if r["ours"].get("profile"))
        lines += ["## PROFILE of the hot queries", "",
                  f"On the {size:,}-node run; writes profiled in a transaction that is rolled "
                  "back, with one batch of rows (parameters: list lengths).", ""]
        for name, p in profiles.items():
            lines += [f"### `{name}` — {p['db_hits']:,} db hits, {p['rows']:,} rows",
                      "", f"parameters: `{json.dumps(p['params'])}`", "", "```"]
            lines += p["plan"] + ["```", ""]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmark lineagraph against LineaPy 0.2.3's SQLite store and "
        "Neo4j's raw UNWIND write floor:\nwrite, read, slice, import and memory, one "
        "table per measure.",
        epilog="example:\n  make bench-venv   # LineaPy 0.2.3 in benchmarks/.lineapy-venv\n"
        "  LINEAGRAPH_HOME=/tmp/bench-home .venv/bin/python benchmarks/run.py \\\n"
        "      --sizes 1000,10000,100000 --repeat 3 --write-md BENCHMARKS.md\n\n"
        "Without NEO4J_URI the managed server of LINEAGRAPH_HOME is used (started if "
        "needed).\nWithout benchmarks/.lineapy-venv (or with --skip-lineapy) LineaPy's "
        "columns are empty.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="session sizes in nodes, comma-separated (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="repeats of each write (default: %(default)s)")
    parser.add_argument("--large-repeat", type=int, default=2,
                        help=f"repeats of our writes from {LARGE:,} nodes on "
                        "(default: %(default)s)")
    parser.add_argument("--huge-repeat", type=int, default=1,
                        help=f"repeats of our writes from {HUGE:,} nodes on, at most "
                        "--large-repeat (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="rows per UNWIND statement, ours and the floor's "
                        "(default: %(default)s)")
    parser.add_argument("--shipped-max", type=int, default=10_000,
                        help="largest size at which LineaPy as shipped (commit per write) "
                        "is timed, once (default: %(default)s; 0: never)")
    parser.add_argument("--read-repeat", type=int, metavar="N",
                        help="repeats of get_nodes_for_session and of LineaPy's slice "
                        "(default: 5, at 10,000 nodes 3 for LineaPy, from 100,000 on 3 for "
                        "ours and 1 for LineaPy)")
    parser.add_argument("--skip-lineapy", action="store_true",
                        help="do not run LineaPy's side")
    parser.add_argument("--lineapy-max", type=int, metavar="N",
                        help="time LineaPy's one-commit write only up to N nodes; above, "
                        "its side writes its file in commits of --lineapy-chunk nodes (one "
                        "commit of 1,000,000 rows runs out of 8 GiB) and still measures "
                        "its reads, and the import reads that file")
    parser.add_argument("--lineapy-chunk", type=int, default=10_000, metavar="N",
                        help="nodes per commit of LineaPy's write above --lineapy-max "
                        "(default: %(default)s)")
    parser.add_argument("--lineapy-file", action="append", default=[], metavar="SIZE=PATH",
                        help="for a size LineaPy's side does not run at, import this "
                        "SQLite file LineaPy wrote earlier (benchmarks/lineapy_side.py "
                        "--keep PATH on the same workload size)")
    parser.add_argument("--wipe", action="store_true",
                        help="first delete all data of the database")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-md", type=Path, metavar="PATH",
                        help="write the results as Markdown (e.g. BENCHMARKS.md)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="write the raw results as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--lineapy-db", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    if not args.size_list or min(args.size_list) < workload.SLICE_NODES:
        parser.error(f"every size must be at least {workload.SLICE_NODES}")
    if min(args.repeat, args.batch_size, args.large_repeat, args.huge_repeat) < 1:
        parser.error("--repeat, --large-repeat, --huge-repeat and --batch-size must be at "
                     "least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return import_worker(args) if args.import_only else worker(args)
    command = "benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    started_at = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    settings, where = settings_from_environment()
    if args.wipe:
        driver = open_driver(settings)
        try:  # CALL { } IN TRANSACTIONS needs an auto-commit transaction
            with driver.session(database=settings.database) as session:
                session.run(queries()["admin.wipe_relationships"].text).consume()
                session.run(queries()["admin.wipe_data"].text).consume()
        finally:
            driver.close()
    facts = machine_facts(settings)
    facts["batch size"] = str(args.batch_size)
    facts["large commits"] = (f"{lineagraph_config.transaction_nodes():,} nodes per "
                              f"transaction, {lineagraph_config.write_workers()} at once "
                              "(ours and the floor's)")
    with_lineapy = not args.skip_lineapy and LINEAPY_PYTHON.exists()
    if not with_lineapy and not args.skip_lineapy:
        console.print(f"[yellow]{LINEAPY_PYTHON} is missing (make bench-venv): LineaPy's "
                      "side is skipped[/]")
    console.print(f"lineagraph benchmarks: sizes {args.size_list}, {args.repeat} repeats, "
                  f"Neo4j: {where}")
    run_id = uuid.uuid4().hex[:8]
    earlier = {int(s.replace("_", "").replace(",", "")): Path(p)
               for s, p in (item.split("=", 1) for item in args.lineapy_file)}
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="lineagraph-bench-") as tmp:
        for size in args.size_list:
            console.rule(f"{size:,} nodes")
            session = workload.build(size, f"b{run_id}-{size}", seed=args.seed)
            path = Path(tmp) / f"session-{size}.pkl"
            with path.open("wb") as f:
                pickle.dump(session, f)
            lineapy = None
            keep = Path(tmp) / f"lineapy-{size}.sqlite"
            if size in earlier:
                keep = earlier[size]
            elif with_lineapy:
                chunked = args.lineapy_max is not None and size > args.lineapy_max
                shipped = 1 if size <= args.shipped_max and not chunked else 0
                lineapy = run_lineapy(path, keep, size, args.repeat, shipped,
                                      args.read_repeat, args.lineapy_chunk if chunked else 0)
            ours = run_ours(path, keep if keep.exists() else None, args,
                            profile_it=size == max(args.size_list))
            results[size] = {"ours": ours, "lineapy": lineapy}
            if size in earlier:
                results[size]["lineapy_file"] = str(earlier[size])
    minutes = (datetime.datetime.now(datetime.timezone.utc) - started_at).total_seconds() / 60
    load_end = os.getloadavg()
    facts["load average (1, 5, 15 min)"] = (
        f"start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}; "
        f"end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if lineapy_facts := next((r["lineapy"] for r in results.values()
                              if r["lineapy"] and "lineapy" in r["lineapy"]), None):
        facts["LineaPy"] = (f"{lineapy_facts['lineapy']} on Python {lineapy_facts['python']}, "
                            "SQLite file in a temporary directory")
    tables = build_tables(results, args)
    goals = targets(results)
    print_tables(tables, goals)
    if args.json:
        args.json.write_text(json.dumps({"facts": facts, "results": {
            str(k): v for k, v in results.items()}}, indent=1))
    if args.write_md:
        text = markdown(tables, goals, facts, results, command,
                        started_at.strftime("%Y-%m-%d %H:%M UTC"), minutes)
        args.write_md.write_text(keep_other_sections(args.write_md, text))
        console.print(f"wrote {args.write_md}")
    return 0


# Sections other benchmark scripts write into the same file, kept when it is rewritten.
KEPT_SECTIONS = [("<!-- recorder_overhead: begin -->", "<!-- recorder_overhead: end -->"),
                 ("<!-- notebook_overhead: begin -->", "<!-- notebook_overhead: end -->")]


def keep_other_sections(path: Path, text: str) -> str:
    """``text`` followed by the sections of KEPT_SECTIONS found in the file at ``path``."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    for begin, end in KEPT_SECTIONS:
        if begin in old and end in old and begin not in text:
            text = text.rstrip("\n") + "\n\n" + \
                old[old.index(begin):old.index(end) + len(end)] + "\n"
    return text


if __name__ == "__main__":
    sys.exit(main())
