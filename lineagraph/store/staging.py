"""Units too large for one transaction: written in bounded transactions, published at once.

Neo4j holds a transaction's whole state in memory (the managed server's 512 MiB heap
refuses a single transaction of 100,000 nodes). A unit with more nodes than
``GraphLineaDB.transaction_nodes`` is therefore written like this
(``cypher/store/staging.cypher``):

1. one transaction checks its references and artifacts (as a one-transaction commit
   does), writes its source code and a ``:StagedSession`` stand-in for each session that
   is new (when an interrupted attempt at one of its sessions left a stand-in, that is
   cleared first, and the source code and stand-ins are written by a transaction of
   their own);
2. the nodes of those sessions (with their variables), at most ``transaction_nodes`` per
   transaction, then the edges between them, point (``IN_SESSION``) at the stand-ins;
   ``write_workers`` of these transactions run at once, each in a driver session of its
   own (Neo4j runs a statement on one core; the driver retries a deadlock between them);
3. one last transaction turns the stand-ins into ``:Session`` nodes and writes the rest
   of the unit: executions, session properties, nodes of sessions already stored,
   edges that leave the new nodes, values and artifacts.

Readers find nodes through a ``:Session`` (by its id, or by ``IN_SESSION``) or from an
``:Artifact``, both written only in step 3, and no published node has an edge to an
unpublished one: until step 3 commits, no reader, listing or slice sees any of the unit.
A failure removes what the unit wrote (in bounded transactions); a process killed midway
leaves its stand-ins, which the next attempt at the same session removes first, and
``lineagraph gc`` once they are older than its grace period (``abandoned_commits``).
Ad hoc label scans in Neo4j Browser (``MATCH (n:CallNode)``) do see the nodes of a unit
being written.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import uuid
from time import sleep as _sleep  # not a time.sleep a recorded program patched
from typing import Any, Callable, ContextManager

from .._driver import neo4j  # the driver without NumPy and pandas
from neo4j import exceptions as neo4j_errors

from ..errors import LineagraphError
from ..mapping import complete_captions
from .unit import (
    Asked,
    CommitStats,
    Unit,
    batches,
    check_references,
    edge_rows,
    new_artifacts,
    run_counted,
    stored_node_ids,
    write_edge_rows,
    write_head,
    write_node_rows,
    write_tail,
    write_variables,
)

logger = logging.getLogger(__name__)

# edges per transaction (an edge costs the server about half a node)
EDGES_PER_NODE = 2
# how often the last transaction is tried again when another process took the version
# save_artifact chose (each try reads the latest version afresh)
PUBLISH_ATTEMPTS = 100


def transaction_metadata(op: str, **extra: Any) -> dict[str, Any]:
    """A transaction's metadata, shown by SHOW TRANSACTIONS: which lineagraph process is
    doing what (``op``: commit, gc; ``extra``: the unit's size, the step of a staged
    run)."""
    return {"app": "lineagraph", "op": op, "pid": os.getpid(), **extra}


def clear_staged(session: neo4j.Session, session_id: str, limit: int,
                 token: str | None = None, metadata: dict[str, Any] | None = None) -> int:
    """Delete the unpublished nodes of ``session_id`` and then its stand-in (with
    ``token``, only the stand-in holding it and the nodes behind it), ``limit`` nodes per
    transaction, each with ``metadata``; how many nodes."""
    @neo4j.unit_of_work(metadata=metadata)
    def run(tx, name: str, **params):
        return run_counted(tx, name, CommitStats(), session_id=session_id, token=token,
                           **params)

    deleted = 0
    while True:
        done = session.execute_write(run, "store.delete_staged_nodes",
                                     limit=limit)[0]["deleted"]
        deleted += done
        if done < limit:
            break
    session.execute_write(run, "store.delete_staged_session")
    return deleted


def abandoned_commits(session: neo4j.Session, min_age: float, limit: int,
                      remove: bool) -> list[dict]:
    """The stand-ins at least ``min_age`` seconds old (``{id, pid, age, nodes}``: a
    writer that was killed, or one still writing a very large unit), removed with their
    nodes when ``remove``."""
    found = [row for row in session.execute_read(lambda tx: run_counted(
        tx, "store.all_staged_sessions", CommitStats())) if row["age"] >= min_age]
    if remove:
        for row in found:
            clear_staged(session, row["id"], limit,
                         metadata=transaction_metadata("gc", step="clear"))
    return found


class StagedCommit:
    """One staged unit's run: ``run()`` returns its CommitStats, as a commit does."""

    def __init__(self, session: neo4j.Session, unit: Unit, batch: int,
                 transaction_nodes: int, retried: bool,
                 on_transaction: Callable[[str, int], None] | None = None,
                 assume_new: bool = True,
                 open_session: Callable[[], ContextManager[neo4j.Session]] | None = None,
                 workers: int = 1, metadata: dict[str, Any] | None = None):
        self.session = session
        # each transaction's metadata (SHOW TRANSACTIONS): the commit's, and its step
        self.metadata = metadata or {}
        # step 2's transactions: ``workers`` at once, each worker in a session of its own
        # from ``open_session`` (with one worker, or none given, in ``session``)
        self.open_session = open_session
        self.workers = workers if open_session is not None else 1
        self._lock = threading.Lock()  # the figures and on_transaction, across workers
        # the nodes of a session not stored are created without looking each id up
        # (0.7 s of a 100,000-node commit); a node id stored under another session makes
        # the uniqueness constraint refuse the attempt, and commit's next attempt, with
        # assume_new False, looks them up and merges that node when it publishes, as a
        # one-transaction commit does
        self.assume_new = assume_new
        self.unit = unit
        self.batch = batch
        self.limit = transaction_nodes
        self.retried = retried
        self.token = uuid.uuid4().hex
        self.stats = CommitStats(transactions=0)
        self.staged: list[str] = []  # the new sessions, whose stand-ins we hold
        # called after each transaction with (step, nodes or edges written so far)
        self.on_transaction = on_transaction
        self._done: dict[str, int] = {}  # rows written so far, by step

    def _write(self, step: str, fn: Callable, count: int = 0,
               session: neo4j.Session | None = None):
        """``fn(tx, stats)`` in one managed transaction; its figures are added to the
        commit's once the transaction succeeded (the driver may run it more than once).
        ``count`` is how many rows of ``step`` this transaction wrote; on_transaction
        hears the step's running total."""
        @neo4j.unit_of_work(metadata=self._step(step))
        def work(tx):
            stats = CommitStats()
            return fn(tx, stats), stats
        result, stats = (session or self.session).execute_write(work)
        with self._lock:
            self.stats.statements += stats.statements
            self.stats.nodes += stats.nodes
            self.stats.edges += stats.edges
            self.stats.saved += stats.saved
            self.stats.transactions += 1
            self._done[step] = self._done.get(step, 0) + count
            if self.on_transaction is not None:
                self.on_transaction(step, self._done[step])
        return result

    def _step(self, step: str) -> dict[str, Any]:
        return {**self.metadata, "step": step}

    def _read(self, step: str, fn: Callable):
        """``fn(tx)`` in one managed read transaction with the commit's metadata."""
        return self.session.execute_read(neo4j.unit_of_work(metadata=self._step(step))(fn))

    def _clear(self, session_id: str, token: str | None = None) -> int:
        return clear_staged(self.session, session_id, self.limit, token=token,
                            metadata=self._step("clear"))

    def _write_all(self, step: str, chunks: list[list],
                   fn: Callable[[Any, list, CommitStats], Any],
                   meanwhile: Callable[[], Any] = lambda: None) -> tuple[list, Any]:
        """``fn(tx, chunk, stats)`` for each chunk, one transaction each, ``workers`` at
        once, and ``meanwhile()`` in this thread while they run (before them when they
        run one at a time); their results in the order of ``chunks``, and meanwhile's.
        On the first failure (or Ctrl-C) no further chunk starts, those running finish,
        and the failure is raised (meanwhile's, when it raised: a worker's failure at
        the same moment is then dropped)."""
        def one_at_a_time() -> tuple[list, Any]:
            extra = meanwhile()
            return [self._write(step, lambda tx, stats, c=c: fn(tx, c, stats), len(c))
                    for c in chunks], extra

        if self.workers == 1 or len(chunks) <= 1:
            return one_at_a_time()
        local = threading.local()
        opened: list[ContextManager[neo4j.Session]] = []
        stop = threading.Event()  # set by the first failure: no chunk starts after it
        first: list[BaseException] = []

        def one(chunk: list):
            if stop.is_set():
                return None
            try:
                if not hasattr(local, "session"):
                    manager = self.open_session()
                    local.session = manager.__enter__()
                    with self._lock:
                        opened.append(manager)
                return self._write(step, lambda tx, stats: fn(tx, chunk, stats),
                                   len(chunk), session=local.session)
            except BaseException as err:
                with self._lock:
                    first.append(err)
                stop.set()
                raise

        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="lineagraph-commit")
        futures: list[concurrent.futures.Future] = []
        try:
            try:
                for chunk in chunks:
                    futures.append(pool.submit(one, chunk))
            except RuntimeError:  # no new threads: the interpreter is shutting down
                if futures:
                    raise
                return one_at_a_time()
            extra = meanwhile()
            concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
        finally:
            stop.set()  # no-op once all are done; on Ctrl-C here, none starts any more
            try:  # those running finish before the caller removes what the unit wrote
                pool.shutdown(wait=True, cancel_futures=True)
            finally:
                for manager in opened:
                    try:
                        manager.__exit__(None, None, None)
                    except Exception as err:  # noqa: BLE001 - the write's outcome matters
                        logger.debug("closing a commit worker's session: %s", err)
        if first:
            raise first[0]
        return [f.result() for f in futures], extra

    def run(self) -> CommitStats:
        unit = self.unit
        complete_captions(unit.rows)
        rows = [unit.rows[i] for i in unit.nodes]
        asked = Asked.of(unit, rows)  # checked before writing and again when publishing
        try:
            # the check, and when no interrupted attempt left anything, the stand-ins too
            new, leftovers = self._write("check",
                                         lambda tx, stats: self._check(tx, asked, stats))
            if leftovers:
                for session_id in leftovers:
                    cleared = self._clear(session_id)
                    logger.info("session %s: removed %d nodes an interrupted commit left",
                                session_id, cleared)
                self._write("begin", lambda tx, stats: self._begin(tx, new, stats))
            fresh = set(new)
            stage = self._to_stage([r for r in rows if r["session_id"] in fresh])
            # the edges and the rest of the unit, split while the server writes the nodes
            staged, (inner, outer, rest) = self._stage_nodes(
                stage, lambda: self._split(rows, {r["id"] for r in stage}))
            self._write_all("edges", list(batches(inner, self.limit * EDGES_PER_NODE)),
                            lambda tx, chunk, stats: write_edge_rows(
                                tx, chunk, self.batch, stats, staged))
            self._publish(rest, asked, outer, staged)
        except BaseException:
            self._abandon()
            raise
        return self.stats

    def _split(self, rows: list[dict], staged: set[str]) -> tuple[list, list, Unit]:
        """The unit's edges between ``staged`` nodes, its other edges, and the rest of
        the unit (what the publishing transaction writes besides those other edges)."""
        unit = self.unit
        inner: list[list] = []
        outer: list[list] = []
        for edge in edge_rows(rows):
            (inner if edge[0] in staged and edge[1] in staged else outer).append(edge)
        rest = Unit(
            executions=unit.executions, contexts=unit.contexts,
            nodes={i: n for i, n in unit.nodes.items() if i not in staged},
            rows={i: r for i, r in unit.rows.items() if i not in staged},
            node_values=unit.node_values, python_types=unit.python_types,
            artifacts=unit.artifacts, next_versions=unit.next_versions,
            variables={i: v for i, v in unit.variables.items() if i not in staged})
        return inner, outer, rest

    # -- the transactions ------------------------------------------------------------------
    def _check(self, tx, asked: Asked, stats: CommitStats) -> tuple[list[str], list[str]]:
        """The unit's new sessions, and those of them an interrupted attempt left a
        stand-in of; when there are none of those, ``_begin`` runs in this transaction."""
        check_references(tx, asked, stats)
        new_artifacts(tx, self.unit, stats, self.retried)  # refuse before writing
        states = run_counted(tx, "store.session_states", stats,
                             ids=sorted(self.unit.contexts))
        new = [s["id"] for s in states if not s["stored"]]
        leftovers = [s["id"] for s in states if s["staged"] and not s["stored"]]
        if not leftovers:
            self._begin(tx, new, stats)
        return new, leftovers

    def _begin(self, tx, new: list[str], stats: CommitStats) -> None:
        # source code first: the staged nodes' LOCATED_IN point at it (a cell reaches
        # its session by CELL_OF, written when the session is published)
        write_head(tx, Unit(source_codes=self.unit.source_codes), stats)
        if new:
            run_counted(tx, "store.begin_staged_sessions", stats, ids=new,
                        token=self.token, pid=os.getpid())
        # from the moment its transaction may commit (even unheard of: a Ctrl-C while
        # waiting for the answer), a failure removes the stand-ins holding our token;
        # before that, none exist and _abandon has nothing to do
        self.staged = new

    def _to_stage(self, rows: list[dict]) -> list[dict]:
        """The rows of the new sessions' nodes to stage: those not stored, with their
        variables. A node already stored (in another session) is left to the publishing
        transaction, which rewrites it: rewritten here, it would leave its session
        before the unit is published, and a failed unit would delete it."""
        if not self.assume_new:
            stored = self._read("stored", lambda tx: stored_node_ids(
                tx, [r["id"] for r in rows], self.limit, CommitStats()))
            rows = [r for r in rows if r["id"] not in stored]
        # their assigned variables are written with them (a new node has none yet): no
        # transaction of its own after the edges
        names = self.unit.variables
        return [{**r, "props": {**r["props"], "variables": names[r["id"]]}}
                if names.get(r["id"]) else r for r in rows]

    def _stage_nodes(self, rows: list[dict],
                     meanwhile: Callable[[], Any]) -> tuple[dict[str, str], Any]:
        """Stage ``rows`` (``_to_stage``), running ``meanwhile()`` while the server writes
        them; the element id of each node staged, by its id (the edges' writers match them
        by both), and meanwhile's result."""
        found, extra = self._write_all(
            "nodes", list(batches(rows, self.limit)),
            lambda tx, chunk, stats: write_node_rows(
                tx, chunk, self.batch, stats, session_label="StagedSession",
                assume_new=True),
            meanwhile)
        staged: dict[str, str] = {}
        for part in found:
            staged.update(part)
        return staged, extra

    def _publish(self, rest: Unit, asked: Asked, outer: list[list],
                 staged: dict[str, str]) -> None:
        def work(tx, stats):
            published = run_counted(tx, "store.publish_staged_sessions", stats,
                                    ids=self.staged, token=self.token)
            if len(published) != len(self.staged):
                lost = sorted(set(self.staged) - {r["id"] for r in published})
                raise LineagraphError(
                    f"session(s) {', '.join(lost)} were cleared by another process "
                    "writing them at the same time; nothing of this commit was stored")
            found = check_references(tx, asked, stats).element_ids
            fresh = new_artifacts(tx, rest, stats, self.retried)
            write_head(tx, rest, stats)
            written = write_node_rows(tx, [rest.rows[i] for i in rest.nodes], self.batch,
                                      stats)
            write_edge_rows(tx, outer, self.batch, stats, {**staged, **found, **written})
            write_variables(tx, rest.variables, stats)
            write_tail(tx, rest, fresh, stats, self.retried)

        attempts = 0
        while True:
            attempts += 1
            try:
                self._write("publish", work)
                self.staged = []
                return
            except neo4j_errors.IncompleteCommit:
                if not self.staged:  # nothing tells whether it was stored: commit's ladder
                    raise
                # the answer was lost: published if the stand-ins are sessions now
                _sleep(1.0)
                states = self._read("published?", lambda tx: run_counted(
                    tx, "store.session_states", CommitStats(), ids=self.staged))
                if all(s["stored"] and not s["staged"] for s in states):
                    self.staged = []
                    return
                self.retried = True
            except neo4j_errors.ConstraintError:
                # another writer took the version save_artifact chose: try with a fresh one
                if not rest.next_versions or attempts >= PUBLISH_ATTEMPTS:
                    raise

    def _abandon(self) -> None:
        """Remove what this run staged: the nodes behind the stand-ins holding its token,
        then those stand-ins (best effort: what is left, the next attempt at the same
        session removes). ``staged`` may name a session whose stand-in was never
        committed (the transaction writing it failed): then nothing is touched."""
        for session_id in self.staged:
            try:
                self._clear(session_id, token=self.token)
            except Exception as err:  # noqa: BLE001 - the first failure is what to report
                logger.warning("could not remove the unpublished part of session %s "
                               "(%s); the next commit of it will", session_id, err)
