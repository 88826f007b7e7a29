"""The recorder's only door to the store.

Every store call the recorder makes goes through this module, using ``GraphLineaDB``'s
public methods. The session's nodes and assigned variables are kept here and reach the
store as :class:`~lineagraph.models.SessionGraph` parts (``buffer_session``): at each
``save``, committed by ``save_artifact`` together with the value and the artifact (one
commit, as before), and at the end of the run.
The recorder built the nodes itself, so each part is checked here once, by the store's
own checks (``validate.check_nodes``), and handed over marked as checked, as the
importer does: the store does not walk them a second time.
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
    SessionGraph,
    SourceCode,
    ValueType,
)
from ..store.validate import check_context, check_execution, check_nodes, \
    check_source_code, check_variable


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
        self.execution: Optional[Execution] = None
        self.code: Optional[SourceCode] = None
        self.pending: list[BaseNode] = []
        self.variables: dict[LineaID, list[str]] = {}
        self.written = False  # the session, its execution and code are stored

    def begin(self, session: SessionContext, execution: Execution, code: SourceCode) -> None:
        check_execution(execution)
        check_context(session)
        check_source_code(code)
        self.session, self.execution, self.code = session, execution, code

    def node(self, node: BaseNode) -> None:
        self.pending.append(node)
        self.nodes += 1

    def variable(self, node_id: LineaID, name: str) -> None:
        check_variable(node_id, name)
        names = self.variables.setdefault(node_id, [])
        if name not in names:
            names.append(name)

    def flush(self) -> None:
        """Commit the nodes and variables recorded since the last flush (the session, its
        execution and code with them, which the store merges)."""
        self._buffer()
        self.db.commit()  # also what a refused save left pending; nothing pending: no-op

    def _buffer(self) -> bool:
        """Hand the nodes and variables recorded since the last time to the store's
        pending unit as one checked SessionGraph part; False when there was nothing."""
        if self.session is None or (self.written and not self.pending
                                    and not self.variables):
            return False
        nodes, self.pending = self.pending, []
        variables, self.variables = self.variables, {}
        # model_construct: the models were validated when the recorder built them
        graph = SessionGraph.model_construct(
            context=self.session, execution=self.execution, executions=[],
            source_codes=[self.code], nodes=nodes, variables=variables, values=[],
            artifacts=[])
        graph.mark_checked(check_nodes(nodes))
        self.db.buffer_session(graph)
        self.written = True
        return True

    def save(self, name: str, node_id: LineaID, value: Any, date: datetime.datetime
             ) -> tuple[Artifact, Optional[str]]:
        """Pickle ``value`` (cloudpickle), record it for ``node_id`` and save the next
        version of ``name``, committing everything pending. Returns the artifact and,
        when the value could not be pickled, why."""
        execution_id = self.session.execution_id
        self._buffer()  # the nodes so far: one commit with the value and the artifact
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
            self.flush()
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
