"""LineaPy 0.2.3's side of ``benchmarks/run.py``: times ``RelationalLineaDB`` on SQLite.

Run by the interpreter of ``benchmarks/.lineapy-venv`` (``make bench-venv``), never by
lineagraph's. Reads a session pickled by the runner (plain data from
``benchmarks/workload.py``), and prints one JSON object on stdout:

- ``write``: per repeat, a new SQLite file holding one copy of the session (ids prefixed
  ``lp<k>-``), written with LineaPy's own methods: ``write_execution``,
  ``write_context``, ``write_source_code``, ``write_node`` per node,
  ``write_assigned_variable``, ``write_artifact``, then ``commit()``, all in one
  transaction: ``renew_session`` (which on SQLite commits after every write) is made a
  no-op on the instance, so the unit of work is the same as one ``GraphLineaDB.commit()``.
  Building the pydantic models is not timed.
- ``write_shipped`` (``--shipped-repeat`` > 0): the same with LineaPy unmodified, one
  SQLite transaction (and fsync) per write, as LineaPy runs when tracing.
- ``write_chunked`` (``--chunk N``, instead of the two above): one file written with the
  same methods, committed every ``N`` nodes, each chunk's models built just before it is
  written; for sizes whose one-commit write does not fit in ``--max-gib`` (LineaPy
  keeps every row of a transaction in its SQLAlchemy session: at 1,000,000 nodes it
  runs out of 8 GiB), so that the import and LineaPy's reads are still measured there.
- ``get_nodes_for_session`` and ``get_artifact_by_name`` (``get_artifactorm_by_name``,
  LineaPy 0.2.3's method of that meaning) on the first file, a new ``RelationalLineaDB``
  for each read so nothing comes from SQLAlchemy's identity map.
- ``slice``: ``get_program_slice_by_artifact_name`` (loads the session's nodes, builds a
  networkx ``Graph``, slices), checked to hold the 50 nodes of the fixed slice.

The first file is kept at ``--keep`` for the runner's import measure.

The process limits its own address space (``--max-gib``, default 8): LineaPy's
``get_nodes_for_session`` joins the session's whole source code to every located node
row, so on a large script it needs memory in proportion to nodes x code size. A measure
that runs out is reported under ``errors`` instead of waking the kernel's OOM killer on a
shared machine.

    benchmarks/.lineapy-venv/bin/python benchmarks/lineapy_side.py SESSION.pkl \\
        --repeat 3 --keep /tmp/lineapy.sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

os.environ.setdefault("LINEAPY_DO_NOT_TRACK", "true")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload  # noqa: E402


def _node_models(rows: list[dict[str, Any]], code: Any) -> list[Any]:
    """LineaPy's own pydantic (v1) models of plain node rows located in ``code``."""
    from lineapy.data.types import (
        CallNode,
        GlobalNode,
        ImportNode,
        KeywordArgument,
        LiteralNode,
        LookupNode,
        MutateNode,
        PositionalArgument,
        SourceLocation,
    )

    classes = {"CallNode": CallNode, "LiteralNode": LiteralNode, "LookupNode": LookupNode,
               "ImportNode": ImportNode, "MutateNode": MutateNode, "GlobalNode": GlobalNode}
    nodes = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("node_type", "source_location")}
        loc = row["source_location"]
        if loc is not None:
            fields["source_location"] = SourceLocation(**{**loc, "source_code": code})
        if row["node_type"] == "CallNode":
            fields["positional_args"] = [PositionalArgument(**a)
                                         for a in row["positional_args"]]
            fields["keyword_args"] = [KeywordArgument(**a) for a in row["keyword_args"]]
        nodes.append(classes[row["node_type"]](**fields))
    return nodes


def lineapy_models(session: dict[str, Any], with_nodes: bool = True) -> dict[str, Any]:
    """LineaPy's own pydantic (v1) models of a plain session (``nodes`` empty without
    ``with_nodes``)."""
    from lineapy.data.types import Artifact, Execution, SessionContext, SessionType, SourceCode

    code_row = session["source_code"]
    code = SourceCode(id=code_row["id"], code=code_row["code"],
                      location=Path(code_row["path"]))
    context = SessionContext(**{**session["context"], "environment_type":
                                SessionType[session["context"]["environment_type"]]})
    return {
        "execution": Execution(**session["execution"]),
        "context": context,
        "code": code,
        "nodes": _node_models(session["nodes"], code) if with_nodes else [],
        "variables": session["variables"],
        "artifacts": [Artifact(**a) for a in session["artifacts"]],
    }


def write_session(db: Any, models: dict[str, Any], one_commit: bool,
                  node_chunks: Iterable[list[Any]] | None = None) -> None:
    """The session written with LineaPy's own ``write_*`` methods: in one SQLite
    transaction (``one_commit``) or as shipped; with ``node_chunks``, its nodes are
    those chunks instead, each committed (and dropped from SQLAlchemy's session) after
    it is written."""
    if one_commit:
        db.renew_session = lambda: None
    db.write_execution(models["execution"])
    db.write_context(models["context"])
    db.write_source_code(models["code"])
    for nodes in [models["nodes"]] if node_chunks is None else node_chunks:
        for node in nodes:
            db.write_node(node)
        if node_chunks is not None:
            db.commit()
            db.session.expunge_all()
    for node_id, name in models["variables"]:
        db.write_assigned_variable(node_id, name)
    for artifact in models["artifacts"]:
        db.write_artifact(artifact)
    db.commit()


def write_in_chunks(db: Any, base: dict[str, Any], tag: str, chunk: int) -> None:
    """One copy of ``base`` (ids prefixed ``tag``), one SQLite commit per ``chunk``
    nodes: a chunk's models are built just before it is written, so that the process
    holds one chunk at a time (one commit of 1,000,000 rows needs more than 8 GiB)."""
    models = lineapy_models(workload.tagged({**base, "nodes": []}, tag), with_nodes=False)
    rows = base["nodes"]

    def chunks() -> Iterator[list[Any]]:
        for begin in range(0, len(rows), chunk):
            part = workload.tagged({"session_id": base["session_id"],
                                    "nodes": rows[begin:begin + chunk]}, tag)["nodes"]
            yield _node_models(part, models["code"])
            print(f"  lineapy write in chunks: {min(begin + chunk, len(rows)):,} of "
                  f"{len(rows):,} nodes", file=sys.stderr, flush=True)

    write_session(db, models, one_commit=True, node_chunks=chunks())


def median_time(fn: Any, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session", type=Path, help="pickled session from workload.build")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shipped-repeat", type=int, default=0,
                        help="repeats of the unmodified (commit per write) write")
    parser.add_argument("--read-repeat", type=int, default=5)
    parser.add_argument("--max-gib", type=float, default=8.0,
                        help="address-space limit of this process (default: %(default)s)")
    parser.add_argument("--chunk", type=int, default=0, metavar="NODES",
                        help="write the kept file once, one commit per NODES nodes, instead "
                             "of the one-commit and shipped repeats (for sizes whose one "
                             "commit does not fit in --max-gib); timed as write_chunked")
    parser.add_argument("--keep", type=Path, required=True,
                        help="where to keep the SQLite file of the first write")
    args = parser.parse_args(argv)
    limit = int(args.max_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from lineapy import __version__ as lineapy_version
    from lineapy.db.db import RelationalLineaDB
    from lineapy.graph_reader.program_slice import get_program_slice_by_artifact_name

    with args.session.open("rb") as f:
        base = pickle.load(f)
    out: dict[str, Any] = {"lineapy": lineapy_version, "python": sys.version.split()[0],
                           "nodes": len(base["nodes"]), "write": [],
                           "write_shipped": [], "write_chunked": [], "errors": {},
                           "max_gib": args.max_gib}
    tmp = Path(tempfile.mkdtemp(prefix="lineapy-bench-"))
    try:
        first: dict[str, Any] = {}
        runs = [(k, True) for k in range(args.repeat)]
        runs += [(k, False) for k in range(args.shipped_repeat)]
        if args.chunk:
            first = {"session_id": "lp0-" + base["session_id"],
                     "slice": workload.tagged({"session_id": base["session_id"],
                                               "slice": base["slice"]}, "lp0-")["slice"]}
            db = RelationalLineaDB(f"sqlite:///{args.keep}")
            started = time.perf_counter()
            write_in_chunks(db, base, "lp0-", args.chunk)
            out["write_chunked"].append(time.perf_counter() - started)
            db.close()
            db.engine.dispose()
            out["chunk"] = args.chunk
            runs = []  # instead of the one-commit and shipped writes
        for k, one_commit in runs:
            tag = f"lp{k}-" if one_commit else f"lps{k}-"
            session = workload.tagged(base, tag)
            models = lineapy_models(session)
            path = tmp / f"{tag}.sqlite"
            db = RelationalLineaDB(f"sqlite:///{path}")
            started = time.perf_counter()
            write_session(db, models, one_commit)
            seconds = time.perf_counter() - started
            db.close()
            db.engine.dispose()
            out["write" if one_commit else "write_shipped"].append(seconds)
            print(f"  lineapy write ({'one commit' if one_commit else 'as shipped'}) "
                  f"{k + 1}: {seconds:.2f} s", file=sys.stderr, flush=True)
            if one_commit and k == 0:
                first = session
                shutil.copyfile(path, args.keep)
            else:
                path.unlink()

        url = f"sqlite:///{args.keep}"
        sid, name = first["session_id"], first["slice"]["artifact"]

        def read_nodes() -> None:
            db = RelationalLineaDB(url)
            nodes = db.get_nodes_for_session(sid)
            assert len(nodes) == len(base["nodes"]), len(nodes)
            db.session.close()
            db.engine.dispose()

        def read_artifact() -> None:
            artifact = db.get_artifactorm_by_name(name)
            assert artifact.node_id == first["slice"]["node_id"]

        def slice_() -> None:
            db = RelationalLineaDB(url)
            code = get_program_slice_by_artifact_name(db, name)
            body = [line for line in code.body_lines if line.strip()]
            assert len(body) == workload.SLICE_LINES, body
            db.session.close()
            db.engine.dispose()

        def measure(key: str, fn: Any, repeat: int) -> None:
            try:
                out[key] = median_time(fn, repeat)[1]
            except MemoryError:
                out[key] = []
                out["errors"][key] = f"MemoryError (address space limited to " \
                                     f"{args.max_gib:g} GiB)"
                print(f"  lineapy {key}: {out['errors'][key]}", file=sys.stderr, flush=True)

        measure("get_nodes_for_session", read_nodes, args.read_repeat)
        db = RelationalLineaDB(url)
        db.get_artifactorm_by_name(name)
        measure("get_artifact_by_name", read_artifact, 50)
        db.session.close()
        db.engine.dispose()
        measure("slice", slice_, args.read_repeat)
        out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
