"""One artifact as ``lineagraph artifact`` and ``lineagraph value`` show it: its details
with the line of code that computed it, its verified pickle, or its value.

Everything goes through GraphLineaDB's public API and lineagraph.catalog; nothing here
prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import ArtifactInfo, artifact_info, node_source_line
from .errors import LineagraphError
from .models import Artifact
from .store import GraphLineaDB


@dataclass(frozen=True)
class ArtifactDetails:
    info: ArtifactInfo
    source_line: str | None  # the line of code of the artifact's node, when known


@dataclass(frozen=True)
class ArtifactPickle:
    artifact: Artifact
    key: str  # the blob's sha256
    data: bytes  # checked to hash to ``key``; never unpickled


@dataclass(frozen=True)
class ArtifactValue:
    artifact: Artifact
    value: Any


def artifact_details(db: GraphLineaDB, name: str, version: int | None = None) -> ArtifactDetails:
    """The artifact ``name`` (latest version when ``version`` is None) and its code line."""
    info = artifact_info(db, name, version)
    return ArtifactDetails(info, node_source_line(db, info.node_id))


def artifact_pickle(db: GraphLineaDB, name: str, version: int | None = None) -> ArtifactPickle:
    """The verified pickle of an artifact's value, without unpickling it."""
    artifact = db.get_artifact_by_name(name, version)
    key = db.get_node_value_path(artifact.node_id, artifact.execution_id)
    return ArtifactPickle(artifact, key, db.blobs.get_bytes(key))


def artifact_value(db: GraphLineaDB, name: str, version: int | None = None) -> ArtifactValue:
    """An artifact's value, unpickled after its hash is checked (unpickling runs code).

    A value whose class cannot be imported here is a LineagraphError saying to write the
    pickle out instead."""
    artifact = db.get_artifact_by_name(name, version)
    key = db.get_node_value_path(artifact.node_id, artifact.execution_id)
    try:
        value = db.blobs.load_value(key)
    except (ImportError, AttributeError) as err:  # not installed here, or broken
        raise LineagraphError(
            f"cannot load {name!r} version {artifact.version} here: {err}; "
            "use -o FILE to write the pickle out instead"
        ) from None
    return ArtifactValue(artifact, value)
