"""Benchmark: one ``GraphLineaDB.commit()`` of a large synthetic LineaPy session.

Builds a LineaPy-shaped session of N nodes (a mix like a real trace: mostly calls,
literals and lookups, some imports, mutations, globals and if/else pairs; most nodes
located in one script), writes it with the store, times a single ``commit()``, and then
counts what Neo4j holds for the session. Exits 1 when the counts differ from the models.

Connection: ``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` (and
``NEO4J_DATABASE``) when set, else lineagraph's managed local server (started if needed).
Every run uses a new session id, so runs never collide with each other or with other
data; ``--wipe`` first deletes every node and relationship of the database (data only;
the schema is then (re)applied).

Example:

    NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USERNAME=neo4j NEO4J_PASSWORD=secret \\
        python benchmarks/commit_large_session.py --nodes 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import neo4j

from lineagraph import GraphLineaDB
from lineagraph.config import ConnectionSettings
from lineagraph.connection import open_driver, resolve_settings
from lineagraph.mapping import DEPENDENCY_TYPES
from lineagraph.models import (
    BaseNode,
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    MutateNode,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)
from lineagraph.queries import queries
from lineagraph.store import DEFAULT_BATCH_SIZE

# How often each kind is drawn; an if/else pair adds two nodes, so its 1.5% of draws
# make about 3% of the nodes.
MIX = {
    "CallNode": 0.35,
    "LiteralNode": 0.30,
    "LookupNode": 0.15,
    "ImportNode": 0.05,
    "MutateNode": 0.08,
    "GlobalNode": 0.04,
    "IfElsePair": 0.015,
}
LOCATED_SHARE = 0.85  # nodes with a source location
BRANCH_LENGTH = 6  # nodes after an if/else that depend on it

# Verification is only counting; values travel as parameters.
COUNT_NODES = "MATCH (n:Node {session_id: $sid}) RETURN count(n) AS n"
COUNT_DEPENDENCIES = (
    "MATCH (n:Node {session_id: $sid})-[r]->(:Node) "
    "WHERE type(r) IN $types RETURN count(r) AS n"
)
COUNT_LOCATIONS = (
    "MATCH (n:Node {session_id: $sid})-[:LOCATED_IN]->(:SourceCode) RETURN count(*) AS n"
)

FUNCTIONS = ["read_csv", "merge", "groupby", "fit", "predict", "plot", "append", "sum",
             "astype", "dropna", "apply", "concat", "reshape", "mean", "to_numpy"]
MODULES = ["pandas", "numpy", "sklearn.linear_model", "matplotlib.pyplot", "os", "json",
           "math", "re", "itertools", "collections"]
BUILTINS = ["len", "print", "range", "getattr", "setattr", "list", "dict", "open", "int",
            "str", "sorted", "zip", "enumerate", "l_import", "l_list", "l_dict"]


@dataclass
class Session:
    execution: Execution
    context: SessionContext
    code: SourceCode
    nodes: list[BaseNode]

    @property
    def dependencies(self) -> int:
        """Dependency relationships the models imply: one per parent reference."""
        return sum(len(list(node.parents())) for node in self.nodes)

    @property
    def located(self) -> int:
        return sum(1 for node in self.nodes if node.source_location is not None)


def build_session(n_nodes: int, rng: random.Random) -> Session:
    """A synthetic session of exactly ``n_nodes`` nodes, every reference to an earlier
    node (an if and its else name each other)."""
    sid = f"bench-{uuid.uuid4()}"
    execution = Execution(id=f"{sid}-execution", timestamp=datetime.datetime.now())
    context = SessionContext(
        id=sid, environment_type=SessionType.SCRIPT, python_version="3.10.12",
        creation_time=datetime.datetime.now(), working_directory="/home/user/project",
        session_name="commit benchmark", execution_id=execution.id,
    )
    n_lines = max(1, n_nodes // 3)
    lines = [f"v{i} = {rng.choice(FUNCTIONS)}(v{max(0, i - 1)}, key={i % 97!r})"
             for i in range(n_lines)]
    code = SourceCode(id=f"{sid}-script", code="\n".join(lines) + "\n",
                      location=Path("/home/user/project/pipeline.py"))

    def location() -> SourceLocation | None:
        if rng.random() >= LOCATED_SHARE:
            return None
        lineno = rng.randint(1, n_lines)
        length = len(lines[lineno - 1])
        col = rng.randint(0, length - 1)
        return SourceLocation(lineno=lineno, col_offset=col, end_lineno=lineno,
                              end_col_offset=rng.randint(col + 1, length), source_code=code)

    nodes: list[BaseNode] = []
    calls: list[str] = []
    callables: list[str] = []  # imports, lookups and calls: what a call may call
    values: list[str] = []  # anything a call may take as an argument
    literals: list[str] = []  # code of a branch that did not run
    branch: list[str] = []  # control dependency of the next nodes, if any

    def add(node: BaseNode) -> None:
        nodes.append(node)
        values.append(node.id)

    def recent(pool: list[str]) -> str:
        """Mostly one of the last 200 (code uses what it just computed), else any."""
        if rng.random() < 0.8:
            return pool[rng.randrange(max(0, len(pool) - 200), len(pool))]
        return rng.choice(pool)

    def common() -> dict:
        fields = {"id": f"{sid}-n{len(nodes)}", "session_id": sid,
                  "source_location": location()}
        if branch:
            fields["control_dependency"] = branch.pop()
        return fields

    kinds, weights = zip(*MIX.items())
    while len(nodes) < n_nodes:
        kind = rng.choices(kinds, weights)[0]
        # Calls and the rest need something to point at; start with imports and lookups.
        if not callables:
            kind = rng.choice(["ImportNode", "LookupNode"])
        elif not calls and kind in ("MutateNode", "GlobalNode", "IfElsePair"):
            kind = "CallNode"
        if kind == "IfElsePair" and len(nodes) + 2 > n_nodes:
            kind = "LiteralNode"

        if kind == "ImportNode":
            module = rng.choice(MODULES)
            node = ImportNode(**common(), name=module, version="1.2.3",
                              package_name=module.split(".")[0],
                              path=f"/usr/lib/python3.10/site-packages/{module}/__init__.py")
            add(node)
            callables.append(node.id)
        elif kind == "LookupNode":
            node = LookupNode(**common(), name=rng.choice(BUILTINS))
            add(node)
            callables.append(node.id)
        elif kind == "LiteralNode":
            value = rng.choice([rng.randint(-10**6, 10**6), rng.random() * 100,
                                f"column_{rng.randint(0, 99)}", True, None, b"\x00bytes"])
            add(LiteralNode(**common(), value=value))
            literals.append(nodes[-1].id)
        elif kind == "CallNode":
            keyword_args = []
            if rng.random() < 0.3:
                keyword_args = [KeywordArgument(key=f"kw{k}", value=recent(values))
                                for k in range(rng.randint(1, 2))]
            global_reads = {}
            if rng.random() < 0.1:
                global_reads = {f"g{rng.randint(0, 9)}": recent(values)}
            implicit = [recent(values)] if rng.random() < 0.05 else []
            node = CallNode(
                **common(), function_id=recent(callables),
                positional_args=[PositionalArgument(id=recent(values),
                                                    starred=rng.random() < 0.02)
                                 for _ in range(rng.randint(1, 3))],
                keyword_args=keyword_args, global_reads=global_reads,
                implicit_dependencies=implicit,
            )
            add(node)
            calls.append(node.id)
            callables.append(node.id)
        elif kind == "MutateNode":
            add(MutateNode(**common(), source_id=recent(values), call_id=recent(calls)))
        elif kind == "GlobalNode":
            add(GlobalNode(**common(), name=f"g{rng.randint(0, 9)}", call_id=recent(calls)))
        else:  # an if/else pair, then a few nodes inside the branch that ran
            if_id, else_id = f"{sid}-n{len(nodes)}", f"{sid}-n{len(nodes) + 1}"
            test = recent(calls)
            add(IfNode(**common(), test_id=test, companion_id=else_id))
            add(ElseNode(**common(), companion_id=if_id,
                         unexec_id=recent(literals) if literals else None))
            assert [n.id for n in nodes[-2:]] == [if_id, else_id]
            branch = [rng.choice([if_id, else_id]) for _ in range(BRANCH_LENGTH)]
    return Session(execution, context, code, nodes)


# -- running ---------------------------------------------------------------------------------


def settings_from_environment() -> tuple[ConnectionSettings, str]:
    if os.environ.get("NEO4J_URI"):
        return resolve_settings(), f"NEO4J_URI={os.environ['NEO4J_URI']}"
    from lineagraph.server import ManagedServer

    server = ManagedServer()
    server.start()
    settings = server.connection_settings()
    return settings, f"lineagraph's managed local server at {settings.uri}"


def count(driver: neo4j.Driver, database: str, query: str, **params) -> int:
    records, _, _ = driver.execute_query(query, params, database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    return records[0]["n"]


@dataclass
class Run:
    nodes: int
    dependencies: int
    located: int
    seconds: float
    wall_seconds: float
    statements: int
    ok: bool


def run_once(db: GraphLineaDB, args: argparse.Namespace, number: int,
             rng: random.Random) -> Run:
    session = build_session(args.nodes, rng)
    print(f"run {number}: session {session.context.id}")
    mix = Counter(type(n).__name__ for n in session.nodes)
    print("  mix:     " + ", ".join(f"{k} {v} ({v / len(session.nodes):.1%})"
                                    for k, v in mix.most_common()))
    db.write_execution(session.execution)
    db.write_context(session.context)
    db.write_source_code(session.code)
    for node in session.nodes:
        db.write_node(node)
    started = time.perf_counter()
    stats = db.commit()
    wall = time.perf_counter() - started

    n_nodes, n_deps, n_located = len(session.nodes), session.dependencies, session.located
    print(f"  written: {n_nodes} nodes, {n_deps} dependency relationships "
          f"(+ {n_located} LOCATED_IN, {n_nodes} IN_SESSION)")
    print(f"  commit:  {stats.seconds:.3f} s ({wall:.3f} s wall), {stats.statements} "
          f"statements, {n_nodes / stats.seconds:,.0f} nodes/s, "
          f"{n_deps / stats.seconds:,.0f} relationships/s")

    sid = session.context.id
    stored_nodes = count(db.driver, db.database, COUNT_NODES, sid=sid)
    stored_deps = count(db.driver, db.database, COUNT_DEPENDENCIES, sid=sid,
                        types=DEPENDENCY_TYPES)
    stored_located = count(db.driver, db.database, COUNT_LOCATIONS, sid=sid)
    checks = [("nodes", stored_nodes, n_nodes), ("dependency relationships", stored_deps,
                                                 n_deps),
              ("LOCATED_IN", stored_located, n_located),
              ("CommitStats.nodes", stats.nodes, n_nodes),
              ("CommitStats.edges", stats.edges, n_deps)]
    ok = all(found == expected for _, found, expected in checks)
    print(f"  verify:  Neo4j holds {stored_nodes} nodes, {stored_deps} dependency "
          f"relationships, {stored_located} LOCATED_IN for the session: "
          + ("OK" if ok else "MISMATCH"))
    for what, found, expected in checks:
        if found != expected:
            print(f"  MISMATCH {what}: found {found}, expected {expected}", file=sys.stderr)
    return Run(n_nodes, n_deps, n_located, stats.seconds, wall, stats.statements, ok)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="commit_large_session.py",
        description="Time one GraphLineaDB.commit() of a large synthetic LineaPy "
        "session.\nPrints nodes, relationships, seconds, statements (round trips), "
        "nodes/s and\nrelationships/s, then counts the session in Neo4j and exits 1 "
        "if the counts differ.",
        epilog="example:\n  NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USERNAME=neo4j "
        "NEO4J_PASSWORD=secret \\\n      python benchmarks/commit_large_session.py "
        "--nodes 20000 --repeat 3\n\nWithout NEO4J_URI the managed local server "
        "(lineagraph neo4j start) is used,\nand started if needed.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--nodes", type=int, default=20_000,
                        help="nodes in the session (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="runs, each with a new session id; prints the median "
                        "(default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="rows per UNWIND statement, passed to "
                        "GraphLineaDB(batch_size=...) (default: %(default)s)")
    parser.add_argument("--wipe", action="store_true",
                        help="first delete every node and relationship in the database")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the synthetic session (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.repeat < 1 or args.batch_size < 1:
        parser.error("--nodes, --repeat and --batch-size must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings, where = settings_from_environment()
    driver = open_driver(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="lineagraph-bench-") as blobs:
            db = GraphLineaDB(driver, database=settings.database, blobs=Path(blobs),
                              batch_size=args.batch_size)
            if args.wipe:
                driver.execute_query(queries()["admin.wipe_data"].text,
                                     database_=settings.database)
                print(f"wiped database {settings.database!r}")
            db.ensure_schema()
            print(f"commit benchmark: {args.nodes} nodes per session, batch size "
                  f"{args.batch_size}, {args.repeat} run(s); {where} "
                  f"(database {settings.database!r})")
            rng = random.Random(args.seed)
            runs = [run_once(db, args, k, rng) for k in range(1, args.repeat + 1)]
    finally:
        driver.close()

    seconds = statistics.median(r.seconds for r in runs)
    nodes = statistics.median(r.nodes / r.seconds for r in runs)
    rels = statistics.median(r.dependencies / r.seconds for r in runs)
    statements = statistics.median(r.statements for r in runs)
    print(f"median of {len(runs)} run(s): {seconds:.3f} s, {statements:g} statements, "
          f"{nodes:,.0f} nodes/s, {rels:,.0f} relationships/s")
    if not all(r.ok for r in runs):
        print("FAILED: what Neo4j holds differs from what was written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
