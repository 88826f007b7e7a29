"""Benchmark: one ``GraphLineaDB.commit()`` of a large synthetic LineaPy session.

Builds a LineaPy-shaped session of N nodes with ``benchmarks/workload.py`` (the node mix
of the LineaPy fixtures: mostly calls, lookups and literals, some mutations, imports and
globals; 60% of nodes located in one script), writes it with the store, times a single
``commit()``, and then counts what Neo4j holds for the session. Exits 1 when the counts
differ from the models.

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
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import neo4j

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload  # noqa: E402
from run import bench_store, models, settings_from_environment  # noqa: E402

from lineagraph import GraphLineaDB  # noqa: E402
from lineagraph.mapping import DEPENDENCY_TYPES  # noqa: E402
from lineagraph.models import BaseNode, Execution, SessionContext, SourceCode  # noqa: E402
from bench_queries import queries  # noqa: E402
from lineagraph.store import DEFAULT_BATCH_SIZE  # noqa: E402

# Verification is only counting; values travel as parameters. A session's nodes are
# found through the (session_id, id) index (cypher/schema/constraints.cypher).
SESSION_NODES = "MATCH (n:Node) WHERE n.session_id = $sid AND n.id IS NOT NULL "
COUNT_NODES = SESSION_NODES + "RETURN count(n) AS n"
COUNT_DEPENDENCIES = (
    SESSION_NODES + "MATCH (n)-[r]->(:Node) WHERE type(r) IN $types RETURN count(r) AS n"
)
COUNT_LOCATIONS = SESSION_NODES + "MATCH (n)-[:LOCATED_IN]->(:SourceCode) RETURN count(*) AS n"


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
    """A synthetic session of exactly ``n_nodes`` nodes (at least 50), drawn by
    ``benchmarks/workload.py`` (the generator benchmarks/run.py uses)."""
    plain = workload.build(n_nodes, f"bench-{uuid.uuid4()}", seed=rng.randrange(2**32))
    m = models(plain)
    return Session(m["execution"], m["context"], m["code"], m["nodes"])


# -- running ---------------------------------------------------------------------------------


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
    if args.nodes < workload.SLICE_NODES or args.repeat < 1 or args.batch_size < 1:
        parser.error(f"--nodes must be at least {workload.SLICE_NODES}, --repeat and "
                     "--batch-size at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings, where = settings_from_environment()
    with bench_store(args, settings) as (settings, driver, db):
        if args.wipe:
            # CALL ... IN TRANSACTIONS runs only in an auto-commit transaction
            with driver.session(database=settings.database) as session:
                session.run(queries()["admin.wipe_relationships"].text).consume()
                session.run(queries()["admin.wipe_data"].text).consume()
            print(f"wiped database {settings.database!r}")
        db.ensure_schema()
        print(f"commit benchmark: {args.nodes} nodes per session, batch size "
              f"{args.batch_size}, {args.repeat} run(s); {where} "
              f"(database {settings.database!r})")
        rng = random.Random(args.seed)
        runs = [run_once(db, args, k, rng) for k in range(1, args.repeat + 1)]

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
