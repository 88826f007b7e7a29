"""Deletes, and the one blob garbage collector.

Deletes first commit what is pending, then run in their own transaction; blobs that
nothing references any more are removed from disk only after the graph no longer points
at them (:func:`remove_unreferenced_blobs`, which ``lineagraph gc`` uses too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Union

from ..errors import NotFoundError
from ..models import LineaID
from .version import parse_artifact_version

if TYPE_CHECKING:  # pragma: no cover
    from . import GraphLineaDB


def remove_unreferenced_blobs(db: "GraphLineaDB", keys: Iterable[str],
                              min_age: Optional[float] = None) -> list[str]:
    """Unlink those of ``keys`` that no value in the graph points at (and, with
    ``min_age``, that were stored at least that many seconds ago); return them.

    Counted and unlinked under the blob store's exclusive lock: a commit about to point
    at one of these blobs holds the shared lock from its check until Neo4j has it."""
    keys = sorted(set(keys))
    if not keys:
        return []
    removed = []
    with db.blobs.lock(shared=False):
        for row in db.read_all("store.blob_reference_counts", keys=keys):
            if row["refs"] != 0 or (min_age is not None and blob_age(db, row["key"]) < min_age):
                continue
            if db.blobs.delete(row["key"]):
                removed.append(row["key"])
    return removed


def blob_age(db: "GraphLineaDB", key: str) -> float:
    """Seconds since the blob was stored; -1 when it is gone (removed meanwhile)."""
    try:
        return db.blobs.age(key)
    except FileNotFoundError:
        return -1.0


class DeletesMixin:
    """GraphLineaDB's deletes."""

    def abandoned_commits(self, min_age: float = 600.0, remove: bool = False) -> list[dict]:
        """Commits too large for one transaction that were interrupted (their writer was
        killed) and are at least ``min_age`` seconds old: ``{id (the session), pid, age,
        nodes}`` each; with ``remove``, their nodes and stand-ins are deleted. None of
        it was ever visible; the next commit of such a session removes it too."""
        from ..query import session
        from .staging import abandoned_commits

        with session(self.driver, self.database) as open_session:
            return abandoned_commits(open_session, min_age, self.transaction_nodes, remove)

    # -- deletes ------------------------------------------------------------------------------
    def delete_artifact_by_name(self, artifact_name: str,
                                version: Union[int, str, None] = None) -> int:
        """Delete one version, ``"latest"`` (also when None) or ``"all"``; return how
        many were deleted. Values no artifact uses any more go too, with their blobs."""
        self.commit()
        parsed = parse_artifact_version("latest" if version is None else version)
        if parsed == "latest":
            latest = self.get_latest_artifact_version(artifact_name)
            if latest < 0:
                raise NotFoundError(f"artifact {artifact_name!r} not found")
            parsed = latest
        target = None if parsed == "all" else parsed

        def unreferenced(results: list) -> dict:
            pairs = {(r["node_id"], r["execution_id"]) for r in results[0]}
            return {"pairs": [{"node_id": n, "execution_id": e} for n, e in sorted(pairs)]}

        # the artifacts and the values no artifact uses any more go in one transaction
        deleted, values = self.write_many([
            ("store.delete_artifacts", {"name": artifact_name, "version": target}),
            ("store.delete_unreferenced_values", unreferenced),
        ])
        if not deleted:
            which = f" version {target}" if target is not None else ""
            raise NotFoundError(f"artifact {artifact_name!r}{which} not found")
        remove_unreferenced_blobs(self, [r["key"] for r in values])
        return len(deleted)

    def delete_node_value_from_db(self, node_id: LineaID, execution_id: LineaID) -> None:
        self.commit()
        rows = self.write("store.delete_node_value", node_id=node_id,
                           execution_id=execution_id)
        if not rows:
            raise NotFoundError(
                f"no value stored for node {node_id!r} in execution {execution_id!r}"
            )
        remove_unreferenced_blobs(self, [r["key"] for r in rows])
