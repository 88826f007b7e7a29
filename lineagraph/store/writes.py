"""The writers: ``write_*`` buffer one model each until ``commit()``; ``write_session``
writes a whole :class:`~lineagraph.models.SessionGraph` as one unit (``buffer_session``
buffers one for the next commit)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional


from ..blobs import BlobInfo
from ..errors import CorruptBlobError, DuplicateError, NotFoundError
from ..models import (Artifact, BaseNode, Execution, LineaID, NodeValue, SessionContext,
                      SessionGraph, SourceCode)
from ..mapping import check_keys
from ..pickletype import pickle_type
from .unit import CommitStats
from .validate import (
    check_artifact,
    check_artifact_name,
    check_context,
    check_execution,
    check_node,
    check_nodes,
    check_node_value,
    check_source_code,
    check_variable,
)


@dataclass
class SessionWrite:
    """What ``write_session`` did: the commit's figures, and which values and artifacts
    were new, already stored, or (artifacts) taken by other content and kept as stored."""

    stats: CommitStats = field(default_factory=CommitStats)
    values_written: int = 0
    values_skipped: int = 0
    artifacts_written: int = 0
    artifacts_skipped: int = 0
    artifact_conflicts: list[str] = field(default_factory=list)


def check_session_graph(graph: SessionGraph) -> list[dict]:
    """Run the store's checks on every part of ``graph``, once: the node rows they build
    are kept on the graph, and a graph already checked is not checked again."""
    rows = graph.checked_rows()
    if rows is None:
        for execution in graph.all_executions():
            check_execution(execution)
        check_context(graph.context)
        for code in graph.source_codes:
            check_source_code(code)
        rows = check_nodes(graph.nodes)
        for node_id, names in graph.variables.items():
            for name in names:
                check_variable(node_id, name)
        for value in graph.values:
            check_node_value(value)
        for artifact in graph.artifacts:
            check_artifact(artifact)
        graph.mark_checked(rows)
    return rows


class WritesMixin:
    """GraphLineaDB's writers (its state: ``_unit``, ``blobs``)."""

    def write_context(self, context: SessionContext) -> None:
        check_context(context)
        self._unit.contexts[context.id] = context

    def write_execution(self, execution: Execution) -> None:
        check_execution(execution)
        self._unit.executions[execution.id] = execution

    def write_source_code(self, source_code: SourceCode) -> None:
        check_source_code(source_code)
        self._unit.source_codes[source_code.id] = source_code

    def write_node(self, node: BaseNode) -> None:
        self._buffer_node(node, check_node(node))

    def _buffer_node(self, node: BaseNode, row: dict) -> None:
        if node.source_location is not None:
            code = node.source_location.source_code
            if code.id not in self._unit.source_codes and code.id not in self._unit.codes_stored:
                if self._cache.get("code", code.id) == code:  # stored as it is: not again
                    self._unit.codes_stored.add(code.id)
                else:
                    self.write_source_code(code)
        self._unit.nodes[node.id] = node
        self._unit.rows[node.id] = row

    def write_assigned_variable(self, node_id: LineaID, variable_name: str) -> None:
        check_variable(node_id, variable_name)
        self._buffer_variable(node_id, variable_name)

    def _buffer_variable(self, node_id: LineaID, variable_name: str) -> None:
        names = self._unit.variables.setdefault(node_id, [])
        if variable_name not in names:
            names.append(variable_name)

    def write_node_value(self, node_value: NodeValue) -> None:
        """Record a node's value; ``node_value.value`` is the key of a blob already in
        this store's blob store (see :meth:`save_value`)."""
        check_node_value(node_value)
        self._buffer_node_value(node_value)

    def _buffer_node_value(self, node_value: NodeValue) -> None:
        try:
            info = self.blobs.info(node_value.value)
        except NotFoundError:
            raise CorruptBlobError(
                f"value of node {node_value.node_id} (execution {node_value.execution_id}) "
                f"points at blob {node_value.value!r}, which is not in {self.blobs.root}"
            ) from None
        key = (node_value.node_id, node_value.execution_id)
        self._unit.node_values[key] = (node_value, info)
        # stored as the value's `python_type`, read from the pickle's opcodes (not unpickled)
        self._unit.python_types[key] = pickle_type(self.blobs.path(info.key))

    def write_artifact(self, artifact: Artifact) -> None:
        """Buffer an artifact; a name and version already taken is refused at once."""
        check_artifact(artifact)
        self._buffer_artifact(artifact)

    def _buffer_artifact(self, artifact: Artifact) -> None:
        key = (artifact.name, artifact.version)
        if key in self._unit.artifacts or self.read_all(
            "store.artifact_by_name", name=artifact.name, version=artifact.version
        ):
            raise DuplicateError(
                f"artifact {artifact.name!r} version {artifact.version} already exists"
            )
        self._unit.artifacts[key] = artifact

    def save_artifact(self, name: str, node_id: LineaID, execution_id: LineaID,
                      date_created: datetime.datetime | None = None) -> Artifact:
        """Save ``name`` as the next version of that name, pointing at ``node_id``'s value
        in ``execution_id``, and commit it with everything pending; return it.

        LineaPy's tracer asked for the latest version and wrote latest + 1, so two
        processes saving one name at once could collide. Here the version is chosen
        inside the commit's transaction; when another process takes it first, Neo4j's
        uniqueness constraint refuses ours and the whole commit is tried again with a
        fresh version. Versions of a name are thus unique and consecutive across
        processes, and no save is lost. (lineagraph's addition to LineaPy's API.)
        """
        # the arguments as given: pydantic would turn b"id" into "id"
        check_artifact_name(name)
        check_keys("artifact", node_id=node_id, execution_id=execution_id)
        artifact = Artifact(
            name=name, node_id=node_id, execution_id=execution_id, version=0,
            date_created=date_created or datetime.datetime.now(),
        )
        check_artifact(artifact, version=False)
        self._unit.next_versions.append((artifact, uuid.uuid4().hex))
        return self.commit().saved[-1]

    def save_value(self, value: Any) -> Optional[BlobInfo]:
        """LineaPy's FilePickler: pickle ``value`` into the blob store; None when it
        cannot be pickled. Pass ``info.key`` as ``NodeValue.value``."""
        return self.blobs.put_value(value)

    def write_session(self, graph: SessionGraph) -> SessionWrite:
        """Write a whole session graph, with what is pending, in one commit: checked once,
        batched as every commit is, and harmless when run again (nodes are merged; a value
        already stored with the same blob, or an artifact already stored for the same
        node and execution, is skipped; an artifact whose name and version hold other
        content is reported in ``artifact_conflicts`` and the store's is kept)."""
        done = self.buffer_session(graph)
        done.stats = self.commit()
        return done

    def buffer_session(self, graph: SessionGraph, head_stored: bool = False,
                       fresh: bool = False) -> SessionWrite:
        """``write_session`` without its commit: the graph joins what is pending, to be
        sent by the next ``commit()`` or ``save_artifact`` (the recorder's ``save``
        commits its nodes with the artifact this way); ``stats`` stays empty.
        ``head_stored``: the graph's session and executions are stored already (a later
        part of a session being recorded), so they are not written again; the commit
        still refuses nodes of a session the store does not hold. ``fresh``: the
        graph's nodes were made with new ids (``get_new_id``) by the caller, so the
        commit creates them without first asking which are stored (a recorder's parts;
        should one be stored after all, the commit looks them up and tries again)."""
        rows = check_session_graph(graph)
        done = SessionWrite()
        # Read what is stored before buffering anything: a read that fails then leaves
        # no half session pending in the unit.
        values = []
        for value in graph.values:
            stored = self.get_node_value_from_db(value.node_id, value.execution_id)
            if stored is not None and stored.value == value.value:
                done.values_skipped += 1
                continue
            values.append(value)
        artifacts = []
        for artifact in graph.artifacts:
            try:
                existing = self.get_artifact_by_name(artifact.name, artifact.version)
            except NotFoundError:
                existing = None
            if existing is None:
                artifacts.append(artifact)
            elif (existing.node_id, existing.execution_id) == (artifact.node_id,
                                                               artifact.execution_id):
                done.artifacts_skipped += 1
            else:
                done.artifact_conflicts.append(
                    f"{artifact.name!r} version {artifact.version}: the store has node "
                    f"{existing.node_id}, the import has node {artifact.node_id}; kept "
                    "the store's")
        if not head_stored:
            for execution in graph.all_executions():
                self._unit.executions[execution.id] = execution
            self._unit.contexts[graph.context.id] = graph.context
        for code in graph.source_codes:
            self._unit.source_codes[code.id] = code
        for node, row in zip(graph.nodes, rows):
            self._buffer_node(node, row)
        if fresh:
            self._unit.fresh.update(node.id for node in graph.nodes)
        for node_id, names in graph.variables.items():
            for name in names:
                self._buffer_variable(node_id, name)
        for value in values:
            self._buffer_node_value(value)
        done.values_written = len(values)
        for artifact in artifacts:
            self._buffer_artifact(artifact)
        done.artifacts_written = len(artifacts)
        return done
