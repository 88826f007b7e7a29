"""``commit()``: the buffered unit sent in one managed transaction, with its retry ladder
(a unit larger than ``transaction_nodes`` in several, published at once:
:mod:`lineagraph.store.staging`).

The driver retries transient faults before Neo4j commits (the attempt was rolled back).
:meth:`CommitMixin._run_unit` runs the unit again when

- the connection broke while Neo4j committed (``IncompleteCommit``, which the driver
  does not retry): the unit may be stored, so the new run recognises its own artifacts
  and saves instead of refusing them;
- a uniqueness constraint refused it (``ConstraintError``): another writer created one
  of its new nodes first, or a node created without a lookup (one its writer called
  fresh, ``Unit.fresh``, or one of a session the store did not hold) was stored (once:
  every node is then looked up, and those found are merged), or another writer took
  the version save_artifact chose (with a fresh version, up to ``SAVE_ATTEMPTS``
  times).

Every other failure is translated once (:func:`lineagraph.driver_errors.translate`).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
# a program being recorded shares this process: the commit's waits between attempts use
# a random generator and a sleep of their own, so that they neither draw from the
# program's `random` sequence nor call a `time.sleep` the program patched
from time import sleep as _sleep

from .._driver import neo4j  # the driver without NumPy and pandas
from neo4j import exceptions as neo4j_errors

from .. import config
from .._gc import paused_gc
from ..driver_errors import DRIVER_ERRORS, translate
from ..errors import DuplicateError, LineagraphError, StoreUnavailableError
from ..query import session
from .staging import StagedCommit, transaction_metadata
from .unit import CommitStats, Unit, check_blobs_present, write_unit

logger = logging.getLogger(__name__)

# save_artifact: how often a commit is tried again when another process took the
# version it computed (each try reads the latest version afresh)
SAVE_ATTEMPTS = 100
_jitter = random.Random()  # the program's random sequence is its own
NOTHING_STORED = ", nothing of it was stored"


class CommitMixin:
    """GraphLineaDB's commit (its state: ``_unit``, ``_cache``, ``blobs``, ``driver``,
    ``transaction_nodes``, ``write_workers``, ``on_transaction``)."""

    def commit(self) -> CommitStats:
        """Send everything written since the last commit, atomically."""
        unit, self._unit = self._unit, Unit()
        if unit.empty():
            self.last_commit = CommitStats()
            return self.last_commit
        started = time.perf_counter()
        try:
            with paused_gc():  # the rows the driver packs hold no cycles
                stats = self._run_unit(unit)
        except LineagraphError:
            raise
        except DRIVER_ERRORS as err:
            raise translate(err, "commit", outcome=NOTHING_STORED) from None
        except (ValueError, TypeError, OverflowError) as err:  # a value the driver can't send
            raise LineagraphError(
                f"commit failed{NOTHING_STORED}: {type(err).__name__}: {err}"
            ) from err
        stats.seconds = time.perf_counter() - started
        self._remember(unit)
        self.last_commit = stats
        return stats

    def _remember(self, unit: Unit) -> None:
        """What a commit stored, into the read cache: each node as the row it was
        written from (``node_to_row``; the reader turns it into read.cypher's shape
        when it is asked for, which most of a large commit's nodes never are)."""
        self._cache.put_many("node", unit.rows.items())
        for context in unit.contexts.values():
            self._cache.put("session", context.id, context)
        for code in unit.source_codes.values():
            self._cache.put("code", code.id, code)

    @staticmethod
    def _metadata(unit: Unit) -> dict:
        """A commit's transaction metadata (SHOW TRANSACTIONS)."""
        return transaction_metadata("commit", nodes=len(unit.nodes))

    def _work(self, unit: Unit, retried: bool, trust_fresh: bool = True):
        @neo4j.unit_of_work(metadata=self._metadata(unit))
        def work(tx: neo4j.ManagedTransaction) -> CommitStats:
            run_stats = CommitStats()
            write_unit(tx, unit, self.batch_size, run_stats, retried=retried,
                       trust_fresh=trust_fresh)
            return run_stats
        return work

    def _run_unit(self, unit: Unit) -> CommitStats:
        """Run the unit in one managed transaction, holding the blob store's shared lock
        when it records values; run it again as the module docstring says."""
        attempts = 0
        retried = False  # True once an earlier run may have been committed unheard of
        node_race = False
        deadline = time.monotonic() + config.retry_seconds()
        while True:
            attempts += 1
            try:
                with contextlib.ExitStack() as stack:
                    if unit.node_values:
                        stack.enter_context(self.blobs.lock(shared=True))
                        check_blobs_present(self.blobs, unit)
                    with session(self.driver, self.database) as open_session:
                        if len(unit.nodes) > self.transaction_nodes:
                            stats = StagedCommit(
                                open_session, unit, self.batch_size,
                                self.transaction_nodes, retried, self.on_transaction,
                                assume_new=not node_race, workers=self.write_workers,
                                open_session=lambda: session(self.driver, self.database),
                                metadata=self._metadata(unit),
                            ).run()
                        else:
                            stats = open_session.execute_write(
                                self._work(unit, retried, trust_fresh=not node_race))
                stats.attempts = attempts
                return stats
            except neo4j_errors.IncompleteCommit:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        "Neo4j stopped answering while it committed: the commit may or "
                        "may not be stored; run the same work again (it is idempotent)"
                    ) from None
                logger.debug("commit: answer lost during COMMIT, running the unit again")
                retried = True
                _sleep(1.0)
            except neo4j_errors.ConstraintError:
                # Which constraint refused it needs no reading of the message: the next
                # run merges nodes another writer created, refuses an artifact someone
                # else stored under the same name and version (DuplicateError), and
                # picks a fresh version for a save.
                if not node_race:
                    node_race = True
                    continue
                if not unit.next_versions:
                    raise
                if attempts >= SAVE_ATTEMPTS:
                    raise DuplicateError(
                        f"save_artifact gave up after {SAVE_ATTEMPTS} conflicts with other "
                        "processes saving the same name; nothing was stored") from None
                logger.debug("save_artifact: version taken by another writer, trying again")
                _sleep(_jitter.uniform(0.0, 0.01 * min(attempts, 20)))
