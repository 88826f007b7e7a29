"""Child processes for the reliability tests: real processes doing real work against the
test server, so the tests can kill them, stop Neo4j under them, or run eight at once.

    python tests/workers.py commit-large SESSION_ID NODES BLOBS
    python tests/workers.py import DB_SQLITE BLOBS
    python tests/workers.py save NAMES SAVES NODE_ID EXECUTION_ID BLOBS
    python tests/workers.py read SECONDS BLOBS

The connection comes from the environment (``WORKER_NEO4J_URI``, ``..._USERNAME``,
``..._PASSWORD``, ``..._DATABASE``), never from the command line. Each command prints one
JSON line per event on stdout (flushed), so a parent can wait for "committing" before
it kills.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import SecretStr  # noqa: E402

from lineagraph import GraphLineaDB  # noqa: E402
from lineagraph.config import ConnectionSettings  # noqa: E402
from lineagraph.connection import open_driver  # noqa: E402
from lineagraph.errors import LineagraphError  # noqa: E402
from lineagraph.models import (  # noqa: E402
    CallNode,
    Execution,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    NodeValue,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)

PREFIX = "WORKER_NEO4J_"


def settings_env(settings: ConnectionSettings) -> dict[str, str]:
    """The environment a worker needs to reach ``settings`` (for the parent)."""
    return {**os.environ, PREFIX + "URI": settings.uri, PREFIX + "USERNAME": settings.username,
            PREFIX + "PASSWORD": settings.password.get_secret_value(),
            PREFIX + "DATABASE": settings.database}


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def open_store(blobs: str) -> GraphLineaDB:
    settings = ConnectionSettings(
        uri=os.environ[PREFIX + "URI"], username=os.environ[PREFIX + "USERNAME"],
        password=SecretStr(os.environ[PREFIX + "PASSWORD"]),
        database=os.environ[PREFIX + "DATABASE"],
    )
    return GraphLineaDB(open_driver(settings), database=settings.database, blobs=blobs,
                        owns_driver=True)


def large_session(sid: str, size: int) -> tuple[Execution, SessionContext, list]:
    """A LineaPy-shaped session of ``size`` nodes: literals feeding calls of looked-up
    functions, each call on a line of one script."""
    execution = Execution(id=f"{sid}-exec", timestamp=time_zero())
    context = SessionContext(id=sid, environment_type=SessionType.SCRIPT,
                             python_version="3.11.7", creation_time=time_zero(),
                             working_directory="/tmp", execution_id=execution.id)
    lines = max(1, size // 3)
    code = SourceCode(id=f"{sid}-code", location=Path("/tmp/big.py"),
                      code="".join(f"v{i} = f({i}, k=v{i - 1})\n" for i in range(lines)))
    nodes: list = [LookupNode(id=f"{sid}-f", session_id=sid, name="f")]
    previous = None
    i = 0
    while len(nodes) < size:
        loc = SourceLocation(lineno=i % lines + 1, col_offset=0, end_lineno=i % lines + 1,
                             end_col_offset=10, source_code=code)
        lit = LiteralNode(id=f"{sid}-lit-{i}", session_id=sid, value=i, source_location=loc)
        nodes.append(lit)
        if len(nodes) == size:
            break
        kwargs = [KeywordArgument(key="k", value=previous)] if previous else []
        call = CallNode(id=f"{sid}-call-{i}", session_id=sid, function_id=f"{sid}-f",
                        positional_args=[PositionalArgument(id=lit.id)], keyword_args=kwargs,
                        source_location=loc)
        nodes.append(call)
        previous = call.id
        i += 1
    return execution, context, nodes


def time_zero():
    import datetime

    return datetime.datetime(2026, 1, 2, 3, 4, 5)


def commit_large(sid: str, size: str, blobs: str) -> None:
    db = open_store(blobs)
    execution, context, nodes = large_session(sid, int(size))
    db.write_execution(execution)
    db.write_context(context)
    for node in nodes:
        db.write_node(node)
    # values too, so a crash leaves blobs behind that nothing may point at
    for node in nodes[1:40]:
        info = db.save_value({"node": node.id, "payload": "x" * 1000})
        db.write_node_value(NodeValue(node_id=node.id, execution_id=execution.id,
                                      value=info.key, value_type="value",
                                      start_time=time_zero(), end_time=time_zero()))
    emit("committing", nodes=len(nodes))
    try:
        stats = db.commit()
    except LineagraphError as err:
        emit("failed", error=str(err), kind=type(err).__name__)
        sys.exit(3)
    emit("committed", nodes=stats.nodes, edges=stats.edges, statements=stats.statements)
    db.close()


def run_import(path: str, blobs: str) -> None:
    from lineagraph.importer import import_lineapy

    db = open_store(blobs)

    def progress(what, done, total):
        emit("progress", what=what, done=done, total=total)

    report = import_lineapy(db, path, progress=progress)
    emit("imported", sessions=report.sessions_imported, nodes=report.nodes_imported)
    db.close()


def save_many(names: str, saves: str, node_id: str, execution_id: str, blobs: str) -> None:
    """Save ``saves`` artifacts, each under one of ``names`` (comma-separated) at random;
    report every (name, version, date_created) it got."""
    db = open_store(blobs)
    names_list = names.split(",")
    got = []
    rng = random.Random(os.getpid())
    for n in range(int(saves)):
        name = rng.choice(names_list)
        artifact = db.save_artifact(name, node_id, execution_id)
        got.append([name, artifact.version, artifact.date_created.isoformat()])
    emit("saved", saves=got, pid=os.getpid())
    db.close()


def read_loop(seconds: str, blobs: str) -> None:
    """Read artifacts while writers save; report what every snapshot looked like."""
    db = open_store(blobs)
    deadline = time.monotonic() + float(seconds)
    snapshots = 0
    problems: list[str] = []
    seen_latest: dict[str, int] = {}
    while time.monotonic() < deadline:
        db.clear_cache()
        artifacts = db.get_all_artifacts()
        snapshots += 1
        by_name: dict[str, list[int]] = {}
        for a in artifacts:
            by_name.setdefault(a.name, []).append(a.version)
            if a.node_id is None or a.execution_id is None or a.date_created is None:
                problems.append(f"artifact {a.name} v{a.version} read partly")
        for name, versions in by_name.items():
            if len(versions) != len(set(versions)):
                problems.append(f"duplicate versions of {name}: {sorted(versions)}")
            latest = db.get_latest_artifact_version(name)
            if latest < seen_latest.get(name, -1):
                problems.append(f"latest version of {name} went back: "
                                f"{seen_latest[name]} -> {latest}")
            seen_latest[name] = max(latest, seen_latest.get(name, -1))
            # an artifact read whole points at a node that exists
            art = db.get_artifact_by_name(name, latest)
            db.get_node_by_id(art.node_id)
    emit("read", snapshots=snapshots, problems=problems, latest=seen_latest)
    db.close()


def churn_save(seconds: str, node_id: str, blobs: str) -> None:
    """Save the same bytes as a value of a new execution, plus an artifact, again and
    again, while ``churn_delete`` deletes those artifacts (and so that blob)."""
    db = open_store(blobs)
    deadline = time.monotonic() + float(seconds)
    saved = refused = dangling = 0
    i = 0
    while time.monotonic() < deadline:
        i += 1
        eid = f"churn-{os.getpid()}-{i}"
        try:
            db.write_execution(Execution(id=eid, timestamp=time_zero()))
            info = db.save_value({"the same": "bytes every time"})
            db.write_node_value(NodeValue(node_id=node_id, execution_id=eid, value=info.key,
                                          value_type="value", start_time=time_zero(),
                                          end_time=time_zero()))
            db.save_artifact("churn", node_id, eid)
            saved += 1
            # dangling: the blob is gone while the value (never re-created: a new
            # execution each time) is still in the graph, asked in that order
            time.sleep(0.002)
            if not db.blobs.exists(info.key) and db.node_value_in_db(node_id, eid):
                dangling += 1
        except LineagraphError as err:  # the blob was removed under us: a clear refusal
            assert "gone" in str(err) or "not in" in str(err), err
            refused += 1
            db.commit()  # nothing pending is left from the refused unit
    emit("churned", saved=saved, refused=refused, dangling=dangling)
    db.close()


def churn_delete(seconds: str, blobs: str) -> None:
    from lineagraph.errors import NotFoundError

    db = open_store(blobs)
    deadline = time.monotonic() + float(seconds)
    deleted = 0
    while time.monotonic() < deadline:
        try:
            deleted += db.delete_artifact_by_name("churn", "all")
        except NotFoundError:
            time.sleep(0.001)
    emit("deleted", deleted=deleted)
    db.close()


COMMANDS = {"commit-large": commit_large, "import": run_import, "save": save_many,
            "read": read_loop, "churn-save": churn_save, "churn-delete": churn_delete}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
