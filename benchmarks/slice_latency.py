"""Slice latency against session size: the same 50-node slice in sessions of 1,000,
10,000 and 100,000 nodes.

Each synthetic session is one script. Its first 25 lines hold the slice of the artifact
``bench_<size>``::

    v1 = 1                      # a literal
    v2 = add(v1, 2)             # a literal and a call, lines 2..25
    ...
    v25 = add(v24, 25)

(1 lookup of ``add`` + 1 + 24 * 2 = 50 nodes). The rest of the session is noise: chains
of calls on their own lines, each using the previous node of its chain, and every tenth
one also a node of the slice, so the slice's nodes have many dependents (which a walk of
ancestors must never visit). Sessions are written with GraphLineaDB in commits of about
20,000 nodes.

For each size the script slices the artifact ``--repeats`` times and prints the median
latency, then the ratio of the largest to the smallest median, and the PROFILE plan of
the ancestor query (db hits), which should not grow with the session.

Connection: NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD if set, else lineagraph's
managed local server (started if needed). The database must be empty, or pass
``--wipe`` to delete everything in it first.

    python benchmarks/slice_latency.py [--sizes 1000 10000 100000] [--repeats 30]
                                       [--wipe] [--no-index]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lineagraph import GraphLineaDB  # noqa: E402
from lineagraph.models import (  # noqa: E402
    Artifact,
    CallNode,
    Execution,
    LiteralNode,
    LookupNode,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)
from bench_queries import queries  # noqa: E402
from lineagraph.slicing import ensure_slicing_index, get_program_slice  # noqa: E402

SLICE_LINES = 25
SLICE_NODES = 50
COMMIT_NODES = 20_000
T0 = datetime.datetime(2024, 5, 1, 12, 0, 0)


def connect() -> GraphLineaDB:
    blobs = Path(tempfile.mkdtemp(prefix="lineagraph-bench-blobs-"))
    if os.environ.get("NEO4J_URI"):
        return GraphLineaDB.from_environment(blobs=blobs)
    from lineagraph.connection import open_driver
    from lineagraph.server import ManagedServer

    server = ManagedServer()
    server.start()
    settings = server.connection_settings()
    return GraphLineaDB(open_driver(settings), database=settings.database, blobs=blobs,
                        owns_driver=True)


def _at(code: SourceCode, line: int, col: int, end_col: int) -> SourceLocation:
    return SourceLocation(lineno=line, col_offset=col, end_lineno=line,
                          end_col_offset=end_col, source_code=code)


def build_session(db: GraphLineaDB, size: int) -> tuple[str, str]:
    """Write one session of ``size`` nodes; return (session id, artifact name)."""
    sid = f"bench-{size}"
    name = f"bench_{size}"
    noise = size - SLICE_NODES
    chains = max(1, noise // 1000)
    lines = ["v1 = 1"] + [f"v{i} = add(v{i - 1}, {i})" for i in range(2, SLICE_LINES + 1)]
    noise_lines = []
    for k in range(noise):
        chain, step = k % chains, k // chains
        prev = f"n{chain}_{step - 1}" if step else "v1"
        extra = f", v{1 + k % SLICE_LINES}" if k % 10 == 0 else ""
        noise_lines.append(f"n{chain}_{step} = add({prev}{extra})")
    code = SourceCode(id=f"{sid}-code", code="\n".join(lines + noise_lines) + "\n",
                      location=Path(f"/bench/session_{size}.py"))
    db.write_execution(Execution(id=f"{sid}-exec", timestamp=T0))
    db.write_context(SessionContext(id=sid, environment_type=SessionType.SCRIPT,
                                    python_version="3.10.12", creation_time=T0,
                                    working_directory="/bench", execution_id=f"{sid}-exec"))
    db.write_source_code(code)
    add = f"{sid}-add"
    pending = 0

    def write(node) -> None:
        nonlocal pending
        db.write_node(node)
        pending += 1
        if pending >= COMMIT_NODES:
            db.commit()
            pending = 0

    write(LookupNode(id=add, session_id=sid, name="add"))
    write(LiteralNode(id=f"{sid}-v1", session_id=sid, value=1,
                      source_location=_at(code, 1, 5, 6)))
    for i in range(2, SLICE_LINES + 1):
        text = lines[i - 1]
        lit = f"{sid}-l{i}"
        write(LiteralNode(id=lit, session_id=sid, value=i,
                          source_location=_at(code, i, text.rindex(" ") + 1, len(text) - 1)))
        write(CallNode(id=f"{sid}-v{i}", session_id=sid, function_id=add,
                       positional_args=[PositionalArgument(id=f"{sid}-v{i - 1}"),
                                        PositionalArgument(id=lit)],
                       source_location=_at(code, i, text.index("=") + 2, len(text))))
    last_of_chain: dict[int, str] = {}
    for k in range(noise):
        chain = k % chains
        line = SLICE_LINES + 1 + k
        text = noise_lines[k]
        args = [PositionalArgument(id=last_of_chain.get(chain, f"{sid}-v1"))]
        if k % 10 == 0:
            args.append(PositionalArgument(id=f"{sid}-v{1 + k % SLICE_LINES}"))
        node_id = f"{sid}-n{k}"
        write(CallNode(id=node_id, session_id=sid, function_id=add, positional_args=args,
                       source_location=_at(code, line, text.index("=") + 2, len(text))))
        last_of_chain[chain] = node_id
    db.write_artifact(Artifact(node_id=f"{sid}-v{SLICE_LINES}", execution_id=f"{sid}-exec",
                               date_created=T0, name=name, version=0))
    db.commit()
    return sid, name


def _hits(plan) -> int:
    return (plan.get("dbHits") or 0) + sum(_hits(c) for c in plan.get("children", []))


def _plan_lines(plan, depth: int = 0) -> list[str]:
    args = plan.get("args", {})
    details = str(args.get("Details", ""))
    if len(details) > 110:
        details = details[:107] + "..."
    out = [f"{'  ' * depth}{plan['operatorType'].split('@')[0]:<34} rows={plan.get('rows', 0):<6}"
           f" dbHits={plan.get('dbHits', 0):<6} {details}"]
    for child in plan.get("children", []):
        out += _plan_lines(child, depth + 1)
    return out


def profile_ancestors(db: GraphLineaDB, sid: str) -> tuple[int, list[str]]:
    text = queries()["slicing.ancestors"].text
    with db.driver.session(database=db.database) as session:
        result = session.run("PROFILE " + text, ids=[f"{sid}-v{SLICE_LINES}"],
                             session_id=sid, known=[])
        rows = len(list(result))
        plan = result.consume().profile
    assert rows == SLICE_NODES, rows
    return _hits(plan), _plan_lines(plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--wipe", action="store_true",
                        help="delete everything in the database first")
    parser.add_argument("--no-index", action="store_true",
                        help="do not create the LOCATED_IN(lineno) index")
    args = parser.parse_args()

    db = connect()
    try:
        with db.driver.session(database=db.database) as session:
            stored = session.run(queries()["slicing.bench_stored_nodes"].text).single()["n"]
        if stored and not args.wipe:
            print(f"the database holds {stored} nodes; rerun with --wipe to delete them "
                  "first", file=sys.stderr)
            return 2
        if stored:
            with db.driver.session(database=db.database) as session:
                session.run(queries()["admin.wipe_relationships"].text).consume()
                session.run(queries()["admin.wipe_data"].text).consume()
        db.ensure_schema()
        if not args.no_index:
            ensure_slicing_index(db)
        with db.driver.session(database=db.database) as session:
            session.run(queries()["slicing.bench_await_indexes"].text).consume()

        built = {}
        for size in args.sizes:
            started = time.perf_counter()
            built[size] = build_session(db, size)
            print(f"built session of {size:>7,} nodes in {time.perf_counter() - started:6.1f} s",
                  flush=True)

        print(f"\nLOCATED_IN(lineno) index: {'no' if args.no_index else 'yes'}; "
              f"{args.repeats} repeats per size\n")
        print(f"{'nodes':>9}  {'first call':>10}  {'median':>9}  {'p90':>9}  "
              f"{'slice':>5}  {'ancestors dbHits':>16}")
        medians = {}
        profiles = {}
        for size in args.sizes:
            sid, name = built[size]
            started = time.perf_counter()
            first = get_program_slice(db, [name])
            cold = time.perf_counter() - started
            assert len(first.node_ids) == SLICE_NODES, len(first.node_ids)
            assert len(first.body_lines) == SLICE_LINES, first.body_lines
            for _ in range(3):
                get_program_slice(db, [name])
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                get_program_slice(db, [name])
                times.append(time.perf_counter() - started)
            times.sort()
            medians[size] = statistics.median(times)
            p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
            profiles[size] = profile_ancestors(db, sid)
            print(f"{size:>9,}  {cold * 1000:>8.1f}ms  {medians[size] * 1000:>7.1f}ms  "
                  f"{p90 * 1000:>7.1f}ms  {len(first.node_ids):>5}  {profiles[size][0]:>16}",
                  flush=True)
        small, large = min(args.sizes), max(args.sizes)
        print(f"\nmedian latency ratio {large:,} / {small:,} nodes: "
              f"{medians[large] / medians[small]:.2f}")
        print(f"ancestor query dbHits ratio {large:,} / {small:,} nodes: "
              f"{profiles[large][0] / profiles[small][0]:.2f}")
        print(f"\nPROFILE slicing.ancestors on the {large:,}-node session:")
        print("\n".join(profiles[large][1]))
    finally:
        db.close()
        shutil.rmtree(db.blobs.root, ignore_errors=True)  # connect()'s temporary blobs
    return 0


if __name__ == "__main__":
    sys.exit(main())
