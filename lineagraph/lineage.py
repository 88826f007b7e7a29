"""Lineage questions, answered by traversals that run in Neo4j.

- :func:`upstream` / :func:`downstream`: what a node (or artifact) depends on, or what
  depends on it, optionally limited to ``depth`` steps;
- :func:`impact`: which artifacts depend on a node (a literal, an import, anything);
- :func:`shared_nodes`: which other artifacts' lineage shares nodes with an artifact's;
- :func:`library_usage`: sessions and artifacts that use a library (name, version);
- :func:`dependency_path`: a shortest chain of dependencies between two nodes.

Unbounded walks are one query each (see ``cypher/lineage/lineage.cypher``); a walk with
a depth runs one query per step, because Cypher takes no parameter as a path length.
"""

from __future__ import annotations

from typing import Optional, Sequence

from pydantic import BaseModel

from .mapping import artifact_from_props
from .models import Artifact
from .store import ArtifactRef, GraphLineaDB, parse_artifact_ref


class LineageNode(BaseModel):
    """A node as a person recognises it: type, name or value, and its source line."""

    id: str
    node_type: str
    session_id: str
    name: Optional[str] = None
    value: Optional[str] = None
    lineno: Optional[int] = None
    line: Optional[str] = None
    text: Optional[str] = None
    distance: Optional[int] = None

    @property
    def caption(self) -> str:
        """The node's own source text, else its name or value, else its line."""
        if self.text:
            return self.text
        if self.name is not None and self.node_type != "CallNode":
            return self.name
        if self.value is not None:
            return self.value
        if self.line is not None:
            return self.line.strip()
        if self.name is not None:
            return self.name
        return self.value if self.value is not None else self.node_type


class LibraryUsage(BaseModel):
    library: str
    version: Optional[str] = None
    sessions: list[str]
    artifacts: list[Artifact]


def start_ids(db: GraphLineaDB, artifact: ArtifactRef | None = None,
              node_id: str | None = None) -> list[str]:
    """The node behind an artifact (name or (name, version)), or a node id."""
    if (artifact is None) == (node_id is None):
        raise ValueError("give exactly one of an artifact or a node id")
    if node_id is not None:
        db.get_node_by_id(node_id)  # NotFoundError names a missing node
        return [node_id]
    return [db.get_artifact_by_name(*parse_artifact_ref(artifact)).node_id]


def describe(db: GraphLineaDB, ids: Sequence[str],
             distances: dict[str, int] | None = None) -> list[LineageNode]:
    rows = db.read_all("lineage.node_rows", ids=list(ids))
    nodes = []
    for row in rows:
        value = None
        if row["node_type"] == "LiteralNode":
            value = row["value"]
        nodes.append(LineageNode(
            id=row["id"], node_type=row["node_type"], session_id=row["session_id"],
            name=row["name"], value=value, lineno=row["lineno"], line=row["line"],
            text=row["text"],
            distance=(distances or {}).get(row["id"]),
        ))
    return sorted(nodes, key=lambda n: (n.distance if n.distance is not None else 0,
                                        n.lineno or 0, n.id))


def _walk(db: GraphLineaDB, ids: list[str], direction: str, depth: int | None) -> dict[str, int]:
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be 0 or more, not {depth}")
    if depth is None:
        found = [r["id"] for r in db.read_all(f"lineage.{direction}_all", ids=ids)]
        return {i: None for i in found}  # type: ignore[misc]
    distances: dict[str, int] = {}
    seen = set(ids)
    frontier = list(ids)
    for step in range(1, depth + 1):
        if not frontier:
            break
        frontier = [r["id"] for r in db.read_all(f"lineage.{direction}_step",
                                              frontier=frontier, seen=sorted(seen))]
        for node_id in frontier:
            distances[node_id] = step
        seen.update(frontier)
    return distances


def upstream(db: GraphLineaDB, artifact: ArtifactRef | None = None,
             node_id: str | None = None, depth: int | None = None) -> list[LineageNode]:
    """What the artifact's (or node's) value was computed from."""
    ids = start_ids(db, artifact, node_id)
    found = _walk(db, ids, "upstream", depth)
    return describe(db, list(found), found if depth is not None else None)


def downstream(db: GraphLineaDB, artifact: ArtifactRef | None = None,
               node_id: str | None = None, depth: int | None = None) -> list[LineageNode]:
    """Everything computed from the artifact's (or node's) value."""
    ids = start_ids(db, artifact, node_id)
    found = _walk(db, ids, "downstream", depth)
    return describe(db, list(found), found if depth is not None else None)


def impact(db: GraphLineaDB, node_id: str) -> list[Artifact]:
    """Artifacts whose value depends on the node (the node's own artifacts included)."""
    db.get_node_by_id(node_id)
    ids = [node_id] + [r["id"] for r in db.read_all("lineage.downstream_all", ids=[node_id])]
    return [artifact_from_props(r["artifact"])
            for r in db.read_all("lineage.artifacts_of_nodes", ids=ids)]


def shared_nodes(db: GraphLineaDB, artifact: ArtifactRef) -> dict[tuple[str, int], int]:
    """Other artifacts whose lineage shares nodes with this artifact's, and how many."""
    ids = start_ids(db, artifact)
    mine = set(ids) | {r["id"] for r in db.read_all("lineage.upstream_all", ids=ids)}
    own = db.get_artifact_by_name(*parse_artifact_ref(artifact))
    result: dict[tuple[str, int], int] = {}
    # artifacts downstream of any node of my lineage are exactly those sharing a node
    dependents = {r["id"] for r in db.read_all("lineage.downstream_all", ids=sorted(mine))}
    others = [artifact_from_props(r["artifact"])
              for r in db.read_all("lineage.artifacts_of_nodes", ids=sorted(mine | dependents))]
    others = [o for o in others if (o.name, o.version) != (own.name, own.version)]
    lineages = {r["start"]: set(r["ids"]) for r in db.read_all(
        "lineage.upstream_of_each", ids=sorted({o.node_id for o in others}))}
    for other in others:
        shared = len(mine & lineages.get(other.node_id, set()))
        if shared:
            result[(other.name, other.version)] = shared
    return dict(sorted(result.items(), key=lambda kv: (-kv[1], kv[0])))


def library_usage(db: GraphLineaDB, library: str, version: str | None = None) -> LibraryUsage:
    """Sessions that import the library (by import or package name, optionally one
    version), and the artifacts whose values were computed from it."""
    imports = db.read_all("lineage.imports_of_library", name=library, version=version)
    sessions = sorted({r["session_id"] for r in imports})
    artifacts = []
    if sessions:
        roots = [r["id"] for r in imports] + [r["id"] for r in db.read_all(
            "lineage.import_calls", module=library.split(".")[0], session_ids=sessions)]
        dependents = [r["id"] for r in db.read_all("lineage.downstream_all", ids=roots)]
        artifacts = [artifact_from_props(r["artifact"])
                     for r in db.read_all("lineage.artifacts_of_nodes", ids=roots + dependents)]
    return LibraryUsage(library=library, version=version, sessions=sessions,
                        artifacts=artifacts)


def dependency_path(db: GraphLineaDB, from_id: str, to_id: str) -> Optional[list[LineageNode]]:
    """A shortest chain from a node to one it depends on (directly or not), or None."""
    for node_id in (from_id, to_id):
        db.get_node_by_id(node_id)
    ids = db.read_value("lineage.shortest_dependency_path", from_id=from_id, to_id=to_id)
    if ids is None:
        return None
    return describe(db, ids, {node_id: i for i, node_id in enumerate(ids)})


