"""The recorder's only door to the store.

Every store call the recorder makes goes through this module, using ``GraphLineaDB``'s
public methods: writes are buffered by the store's unit of work and reach Neo4j in one
commit at the end of the run and one per ``save`` (``save_artifact`` commits everything
pending together with the artifact). When the store gains an API that writes a whole
session graph at once, only this module changes.
"""

from __future__ import annotations

import datetime
import pickle
import sys
from typing import Any, Optional

from ..errors import LineagraphError
from ..models import (
    Artifact,
    BaseNode,
    Execution,
    LineaID,
    NodeValue,
    SessionContext,
    SourceCode,
    ValueType,
)


def open_store(settings=None, home=None):
    """A GraphLineaDB for ``settings`` (default: the configured store), checked to answer
    (raises StoreUnavailableError or ConfigurationError otherwise)."""
    from ..config import home_dir
    from ..connection import check_connection, open_driver
    from ..environment import resolve_settings
    from ..store import GraphLineaDB

    settings = settings or resolve_settings()
    check_connection(settings)
    blobs = (home or home_dir()) / "blobs"
    db = GraphLineaDB(open_driver(settings), database=settings.database, blobs=blobs,
                      owns_driver=True)
    db.ensure_schema()
    return db


class Sink:
    """Buffered writes of one recorded session."""

    def __init__(self, db):
        self.db = db
        self.nodes = 0
        self.artifacts = 0
        self.session: Optional[SessionContext] = None

    def begin(self, session: SessionContext, execution: Execution, code: SourceCode) -> None:
        self.session = session
        self.db.write_execution(execution)
        self.db.write_context(session)
        self.db.write_source_code(code)

    def node(self, node: BaseNode) -> None:
        self.db.write_node(node)
        self.nodes += 1

    def variable(self, node_id: LineaID, name: str) -> None:
        self.db.write_assigned_variable(node_id, name)

    def flush(self) -> None:
        self.db.commit()

    def save(self, name: str, node_id: LineaID, value: Any, date: datetime.datetime
             ) -> tuple[Artifact, Optional[str]]:
        """Pickle ``value`` (cloudpickle), record it for ``node_id`` and save the next
        version of ``name``, committing everything pending. Returns the artifact and,
        when the value could not be pickled, why."""
        execution_id = self.session.execution_id
        data, why = _pickled(value)
        if data is not None:
            info = self.db.blobs.put_bytes(data)
            self.db.write_node_value(NodeValue(
                node_id=node_id, execution_id=execution_id, value=info.key,
                value_type=_value_type(value), start_time=date, end_time=date))
        artifact = self.db.save_artifact(name, node_id, execution_id, date_created=date)
        self.artifacts += 1
        return artifact, why

    def close(self) -> None:
        try:
            self.db.commit()
        finally:
            self.db.close()


def _pickled(value: Any) -> tuple[Optional[bytes], Optional[str]]:
    import types

    import cloudpickle

    if isinstance(value, types.ModuleType):
        return None, "a module is not a value"
    try:
        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), None
    except Exception as err:
        try:
            return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), None
        except Exception:
            return None, f"{type(err).__name__}: {err}"


def _value_type(value: Any) -> ValueType:
    module = type(value).__module__ or ""
    if module.startswith("pandas"):
        return ValueType.dataset
    if module.startswith("numpy") or isinstance(value, (list, tuple, set, dict)):
        return ValueType.array
    if module.startswith("matplotlib"):
        return ValueType.chart
    return ValueType.value


__all__ = ["Sink", "open_store", "LineagraphError"]
_ = sys
