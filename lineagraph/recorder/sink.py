"""The recorder's only door to the store.

Every store call the recorder makes goes through this module, using ``GraphLineaDB``'s
public methods. The session's nodes and assigned variables are kept here and reach the
store as :class:`~lineagraph.models.SessionGraph` parts (``buffer_session``), each
committed on its own:

- every ``flush_nodes`` nodes (the first part after ``FIRST_PART``), by a writer
  thread, while the program goes on running (Neo4j writes one part while Python records
  the next: on a long script that halves the wall time); a checker thread runs the
  store's checks on each part while the writer sends the one before;
- at each ``save``, together with the value and the artifact (one commit), which the
  program waits for: the save is durable when it returns;
- at the end of the run.

Parts are committed in the order they were recorded, so each one's references are in
itself or in the store. Only the writer thread uses the store while a recording runs;
the store API (``get``, ``LineaArtifact.get_code``, ...) takes :attr:`Sink.lock` to read
between two parts. A part that fails is not retried: the error is raised at the next
``save`` and at the end (never inside the program's own statements), and nothing is sent
after it.
The recorder built the nodes itself, so each part is checked here once, by the store's
own checks (``validate.check_nodes``), and handed over marked as checked, as the
importer does: the store does not walk them a second time.
"""

from __future__ import annotations

import datetime
import pickle
import threading
from concurrent.futures import Future, ThreadPoolExecutor
# bound now: a program that patches time.sleep never sees the recorder's calls
from time import sleep as _yield
from typing import Any, Callable, Optional

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


# nodes per background commit: big enough that a round trip is not paid per statement,
# small enough that the writer starts early and a commit's transaction state stays small
FLUSH_NODES = 2000
# the first part is sent sooner: Neo4j starts writing while the program records the rest
FIRST_PART = 500
# while the writer has a part in hand, the program's thread lets it run every this many
# nodes (time.sleep(0) releases the GIL, which a thread waiting for it then takes). The
# writer waits for Neo4j a dozen times a commit, and without this got the GIL back only
# when the program's thread was made to drop it (sys.getswitchinterval(), 5 ms), each
# time: the first part of a 10,000-node script took 0.45 s instead of 0.1 s, the whole
# run 2.28-2.39 s instead of 1.95-2.11 s (tl.py timeline, 4 runs each)
YIELD_EVERY = 16


class Sink:
    """Buffered writes of one recorded session."""

    def __init__(self, db, flush_nodes: Optional[int] = None):
        self.db = db
        self.flush_nodes = flush_nodes or FLUSH_NODES
        self._part_nodes = min(FIRST_PART, self.flush_nodes)  # nodes of the next part
        self.nodes = 0
        self.artifacts = 0
        self.session: Optional[SessionContext] = None
        self.execution: Optional[Execution] = None
        self.codes: list[SourceCode] = []  # source code not handed to the writer yet
        self.pending: list[BaseNode] = []
        self.variables: dict[LineaID, list[str]] = {}
        self.written = False  # the session, its execution and code were handed over
        # held by the writer while it uses the store, and by the store API between parts
        self.lock = threading.RLock()
        # parts are checked (check_nodes) by one thread while the writer sends the part
        # before: Python's work on a part overlaps Neo4j's on the previous one
        self._checker: Optional[ThreadPoolExecutor] = None
        self._writer: Optional[ThreadPoolExecutor] = None
        self._last: Optional[Future] = None
        self._failed: Optional[BaseException] = None
        self._head_sent = False  # the writer buffered the session and execution once

    def begin(self, session: SessionContext, execution: Execution,
              code: Optional[SourceCode] = None) -> None:
        check_execution(execution)
        check_context(session)
        self.session, self.execution = session, execution
        if code is not None:
            self.add_code(code)

    def add_code(self, code: SourceCode) -> None:
        """Source code (a script, a notebook cell) the next nodes are located in."""
        check_source_code(code)
        self.codes.append(code)

    def node(self, node: BaseNode) -> None:
        self.pending.append(node)
        self.nodes += 1
        if not self.nodes % YIELD_EVERY and self._writer_busy():
            _yield(0)
        if len(self.pending) >= self._part_nodes:
            self._part_nodes = self.flush_nodes
            if self._failed is None:
                self._submit(self._commit_part, self._take())
            else:  # never sent after a part that failed (the next save says why)
                self.pending.clear()

    def _writer_busy(self) -> bool:
        last = self._last
        return last is not None and not last.done()

    def retract(self, node_id: LineaID, within: int = 64) -> Optional[BaseNode]:
        """Take back node ``node_id`` if it is among the last ``within`` nodes recorded
        and not handed to the writer yet (the recorder then writes it again)."""
        for index in range(len(self.pending) - 1, max(-1, len(self.pending) - within - 1), -1):
            if self.pending[index].id == node_id:
                self.nodes -= 1
                return self.pending.pop(index)
        return None

    def variable(self, node_id: LineaID, name: str) -> None:
        check_variable(node_id, name)
        names = self.variables.setdefault(node_id, [])
        if name not in names:
            names.append(name)

    def flush(self, wait: bool = True) -> None:
        """Commit everything recorded so far; with ``wait``, wait for it (raising what
        failed), else leave it to the writer thread (a notebook's next cell)."""
        part = self._take()
        if part is not None and self._failed is None:
            self._submit(self._commit_part, part)
        if wait:
            self._wait()

    def save(self, name: str, node_id: LineaID, value: Any, date: datetime.datetime
             ) -> tuple[Artifact, Optional[str]]:
        """Pickle ``value`` (cloudpickle), record it for ``node_id`` and save the next
        version of ``name``, committing everything pending. Returns the artifact and,
        when the value could not be pickled, why. Waits for the commit."""
        # now: the program may change the value afterwards
        data, why = _pickled(value)
        value_type = _value_type(value)
        self._wait()  # an earlier part that failed is raised here, at the save
        part = self._take()
        self._submit(self._save_part, part, name, node_id, data, value_type, date)
        artifact = self._wait()
        self.artifacts += 1
        return artifact, why

    def end(self) -> None:
        """The end of the recording: everything committed, the writer threads gone."""
        try:
            self.flush()
        finally:
            for pool in (self._checker, self._writer):
                if pool is not None:
                    pool.shutdown(wait=True)
            self._checker = self._writer = None

    def close(self) -> None:
        try:
            self.end()
        finally:
            self.db.close()

    # -- the program's thread ------------------------------------------------------------
    def _take(self) -> Optional[SessionGraph]:
        """The nodes and variables recorded since the last part, as one checked
        SessionGraph part; None when there is nothing to send."""
        if self.session is None or (self.written and not self.pending
                                    and not self.variables and not self.codes):
            return None
        nodes, self.pending = self.pending, []
        variables, self.variables = self.variables, {}
        codes, self.codes = self.codes, []
        # model_construct: the models were validated when the recorder built them
        graph = SessionGraph.model_construct(
            context=self.session, execution=self.execution, executions=[],
            source_codes=codes, nodes=nodes, variables=variables, values=[],
            artifacts=[])
        self.written = True
        return graph

    def _submit(self, job: Callable, graph: Optional[SessionGraph], *args: Any) -> None:
        """``job(graph, *args)`` on the writer thread, in order, once the checker thread
        has checked ``graph`` (None: no graph)."""
        if self._writer is None:
            self._checker = ThreadPoolExecutor(1, thread_name_prefix="lineagraph-checker")
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="lineagraph-writer")
        checked = self._checker.submit(_checked, graph) if graph is not None else None
        self._last = self._writer.submit(self._guarded, job, checked, *args)

    def _wait(self) -> Any:
        """Wait for the writer to finish what was submitted; its last job's result."""
        last, self._last = self._last, None
        try:
            result = last.result() if last is not None else None
        except Exception:
            if self._failed is None:
                raise
        if self._failed is not None:
            # raised in the program's thread as it is, without the writer thread's
            # frames (concurrent.futures) and the error under it, which its message names
            raise self._failed.with_traceback(None) from None
        return result

    # -- the writer's thread -------------------------------------------------------------
    def _guarded(self, job: Callable, checked: Optional[Future], *args: Any) -> Any:
        if self._failed is not None:  # nothing after a part that failed
            return None
        try:
            # the check done before the lock is taken: the store API (a `get` in the
            # program) waits for the writer's commit, not for the checker too
            graph = checked.result() if checked is not None else None
            with self.lock:
                return job(graph, *args)
        except LineagraphError as err:
            self._failed = err
            raise
        except Exception as err:  # a check, a blob write: said as the store's errors are
            self._failed = LineagraphError(
                f"the recording could not be stored: {type(err).__name__}: {err}")
            raise self._failed from err

    def _buffer(self, graph: Optional[SessionGraph]) -> None:
        if graph is not None:  # checked (_checked): what the check refused was raised
            # the session and execution go with the first part only (the writer's parts
            # are committed in order, and nothing is sent after one that failed)
            # fresh: the recorder made every node with a new id (a node it writes again,
            # ``retract``, is one never handed over)
            self.db.buffer_session(graph, head_stored=self._head_sent, fresh=True)
            self._head_sent = True

    def _commit_part(self, graph: Optional[SessionGraph]) -> None:
        self._buffer(graph)
        self.db.commit()  # also what a refused save left pending; nothing pending: no-op

    def _save_part(self, graph: Optional[SessionGraph], name: str, node_id: LineaID,
                   data: Optional[bytes], value_type: ValueType, date: datetime.datetime
                   ) -> Artifact:
        self._buffer(graph)  # the nodes so far: one commit with the value and the artifact
        execution_id = self.session.execution_id
        if data is not None:
            info = self.db.blobs.put_bytes(data)
            self.db.write_node_value(NodeValue(
                node_id=node_id, execution_id=execution_id, value=info.key,
                value_type=value_type, start_time=date, end_time=date))
        return self.db.save_artifact(name, node_id, execution_id, date_created=date)


def _checked(graph: SessionGraph) -> SessionGraph:
    """The checker thread's job: the store's checks of a part's nodes, once."""
    graph.mark_checked(check_nodes(graph.nodes))
    return graph


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
