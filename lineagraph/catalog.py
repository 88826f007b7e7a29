"""What the command line lists and exports: artifacts, sessions, blobs.

Plain functions over a :class:`GraphLineaDB`; the CLI formats their results.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel, field_serializer

from .errors import NotFoundError
from .mapping import DEPENDENCY_TYPES, artifact_from_props, session_from_props
from .models import Artifact, SessionContext
from .pickletype import pickle_type
from .store import GraphLineaDB
from .store.deletes import blob_age, remove_unreferenced_blobs


class ArtifactInfo(BaseModel):
    name: str
    version: int
    date_created: datetime.datetime
    node_id: str
    node_type: str
    session_id: str
    execution_id: str
    python_type: str | None = None  # what the pickle builds: "builtins.dict", ...
    value_type: str | None = None  # LineaPy's category: "array", "dataset", ...
    value_size: int | None = None
    blob: str | None = None


class SessionInfo(BaseModel):
    session: SessionContext
    nodes: int
    artifacts: int

    @field_serializer("session")
    def _session(self, session: SessionContext) -> dict[str, Any]:
        return _session_json(session)


def list_artifacts(db: GraphLineaDB, name: str | None = None,
                   session_id: str | None = None) -> list[ArtifactInfo]:
    rows = db.read_all("catalog.artifact_listing", name=name, session_id=session_id)
    infos = []
    for row in rows:
        artifact: Artifact = artifact_from_props(row["artifact"])
        value = row["value"] or {}
        infos.append(ArtifactInfo(
            **artifact.model_dump(), node_type=row["node_type"], session_id=row["session_id"],
            python_type=_python_type(db, value), value_type=value.get("value_type"),
            value_size=value.get("size"), blob=value.get("value"),
        ))
    return infos


def _python_type(db: GraphLineaDB, value: dict) -> str | None:
    """The value's recorded python_type; for a value stored before lineagraph recorded
    it (or whose opcodes did not tell), read from its blob's opcodes now (never
    unpickled)."""
    if value.get("python_type") or not value.get("value"):
        return value.get("python_type")
    path = db.blobs.path(value["value"])
    return pickle_type(path) if path.is_file() else None


def artifact_info(db: GraphLineaDB, name: str, version: int | None = None) -> ArtifactInfo:
    artifact = db.get_artifact_by_name(name, version)
    for info in list_artifacts(db, name=name):
        if info.version == artifact.version:
            return info
    raise NotFoundError(f"artifact {name!r} version {artifact.version} not found")


def list_sessions(db: GraphLineaDB) -> list[SessionInfo]:
    return [SessionInfo(session=session_from_props(r["session"]), nodes=r["nodes"],
                        artifacts=r["artifacts"])
            for r in db.read_all("catalog.session_listing")]


def node_source_line(db: GraphLineaDB, node_id: str) -> str | None:
    """The source lines a node was recorded at, or None."""
    row = db.read_one("catalog.node_line", id=node_id)
    if row is None:
        return None
    lines = row["code"].splitlines()
    return "\n".join(lines[row["lineno"] - 1:row["end_lineno"]])


def _session_json(context: SessionContext) -> dict[str, Any]:
    data = context.model_dump(mode="json")
    data["environment_type"] = context.environment_type.name  # "SCRIPT", not 2
    return data


def session_details(db: GraphLineaDB, session_id: str) -> dict[str, Any]:
    context = db.get_session_context(session_id)
    return {
        "session": _session_json(context),
        "source": db.get_source_code_for_session(session_id),
        "libraries": [{"name": lib.name, "package_name": lib.package_name,
                       "version": lib.version} for lib in db.get_libraries_for_session(session_id)],
        "variables": [{"node_id": node_id, "name": name}
                      for node_id, name in db.get_variables_for_session(session_id)],
        "artifacts": [a.model_dump(mode="json") for a in db.get_artifacts_for_session(session_id)],
    }


def unreferenced_blobs(db: GraphLineaDB) -> list[str]:
    """Blob keys on disk that no :NodeValue points at."""
    referenced = {r["key"] for r in db.read_all("store.all_blob_keys")}
    return [key for key in db.blobs.keys() if key not in referenced]


def collect_garbage(db: GraphLineaDB, dry_run: bool = False,
                    grace_seconds: float = 600.0) -> tuple[list[str], int]:
    """Remove blobs nothing references and nobody stored in the last ``grace_seconds``
    (a writer may be about to commit a value pointing at it); return the keys removed
    (or, with ``dry_run``, that would be) and their bytes. (Interrupted large commits:
    ``db.abandoned_commits``.)"""
    candidates = [k for k in unreferenced_blobs(db) if blob_age(db, k) >= grace_seconds]
    sizes = {key: _size(db, key) for key in candidates}
    if dry_run or not candidates:
        return candidates, sum(sizes.values())
    # Asked again just before deleting, under the blob store's exclusive lock (a value
    # committed since the listing keeps its blob; ages are read again there too).
    removed = remove_unreferenced_blobs(db, candidates, min_age=grace_seconds)
    return removed, sum(sizes[key] for key in removed)


def _size(db: GraphLineaDB, key: str) -> int:
    try:
        return db.blobs.info(key).size
    except NotFoundError:
        return 0


def export_session(db: GraphLineaDB, session_id: str) -> dict[str, Any]:
    """A session's subgraph as plain JSON: its context, source, nodes, edges, artifacts."""
    context = db.get_session_context(session_id)
    nodes = sorted(db.get_nodes_for_session(session_id), key=lambda n: n.id)
    edges = db.read_all("catalog.session_edges", session_id=session_id,
                     dependency_types=DEPENDENCY_TYPES)
    return {
        "format": "lineagraph.session/1",
        "session": _session_json(context),
        "source": db.get_source_code_for_session(session_id),
        "nodes": [_node_json(n) for n in nodes],
        "edges": [{"source": e["src"], "type": e["type"], "target": e["dst"],
                   "properties": e["props"]} for e in edges],
        "artifacts": [a.model_dump(mode="json") for a in db.get_artifacts_for_session(session_id)],
    }


def export_slice(db: GraphLineaDB, name: str, version: int | None = None) -> dict[str, Any]:
    """An artifact's slice as plain JSON: its code, and the subgraph of its nodes."""
    from .slicing import get_program_slice

    artifact = db.get_artifact_by_name(name, version)
    code = get_program_slice(db, [(artifact.name, artifact.version)])
    ids = sorted(code.node_ids)
    nodes = db.get_nodes_by_ids(ids)
    edges = db.read_all("catalog.edges_among", ids=ids, dependency_types=DEPENDENCY_TYPES)
    return {
        "format": "lineagraph.slice/1",
        "artifact": artifact.model_dump(mode="json"),
        "code": str(code),
        "nodes": [_node_json(n) for n in nodes],
        "edges": [{"source": e["src"], "type": e["type"], "target": e["dst"],
                   "properties": e["props"]} for e in edges],
    }


def _node_json(node) -> dict[str, Any]:
    data = node.model_dump(mode="json", exclude={"source_location"})
    data["node_type"] = node.node_type.name
    if node.source_location is not None:
        loc = node.source_location
        data["source_location"] = {"lineno": loc.lineno, "col_offset": loc.col_offset,
                                   "end_lineno": loc.end_lineno,
                                   "end_col_offset": loc.end_col_offset,
                                   "source_code_id": loc.source_code.id}
    return data

