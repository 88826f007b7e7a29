"""A unit larger than one transaction (lineagraph.store.staging): written in bounded
transactions, invisible to every reader until its last transaction publishes it whole,
equal then to the same unit committed in one transaction; a failure midway leaves
nothing, a process killed midway leaves nothing visible and the next attempt succeeds."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from graphs import T0, every_node_type, execution, script, session
from reliability import check_blobs, count, run_worker, start_worker, wait_for_event

from lineagraph import GraphLineaDB
from lineagraph.errors import NotFoundError
from lineagraph.models import Artifact, CallNode, LookupNode, NodeValue, PositionalArgument
from lineagraph.store.staging import StagedCommit

COPIES = 12  # of every_node_type: 12 x 16 nodes, every type and every edge type
LIMIT = 40  # nodes per transaction


def staged_count(store, sid: str) -> int:
    return count(store.driver, store.database,
                 "MATCH (n:Node {session_id: $sid}) RETURN count(n)", sid=sid)


def stand_ins(store) -> int:
    return count(store.driver, store.database, "MATCH (t:StagedSession) RETURN count(t)")


def buffer_big_session(db: GraphLineaDB, sid: str = "big") -> list:
    """A new session of COPIES x 16 nodes, with variables, a value, an artifact and a
    call of a function defined in the stored session 'old'."""
    code = script("big-code")
    db.write_execution(execution("exec-big"))
    db.write_context(session(sid, "exec-big"))
    db.write_source_code(code)
    nodes = [n for i in range(COPIES) for n in every_node_type(sid, code, f"{sid}{i}")]
    nodes.append(CallNode(id=f"{sid}-uses-old", session_id=sid, function_id="old-f",
                          positional_args=[PositionalArgument(id=nodes[0].id)]))
    for node in nodes:
        db.write_node(node)
    db.write_assigned_variable(nodes[3].id, "x")
    db.write_assigned_variable(nodes[3].id, "x2")  # staged with its node: names in order
    db.write_assigned_variable(nodes[-2].id, "late")  # in the last transaction of nodes
    db.write_assigned_variable("old-f", "f_again")  # a name given in this session to an old node
    info = db.save_value({"answer": 42})
    db.write_node_value(NodeValue(node_id=nodes[-1].id, execution_id="exec-big",
                                  value=info.key, value_type="value", start_time=T0,
                                  end_time=T0))
    db.write_artifact(Artifact(node_id=nodes[-1].id, execution_id="exec-big", name="big",
                               version=0, date_created=T0))
    return nodes


def write_old_session(db: GraphLineaDB) -> None:
    db.write_execution(execution("exec-old"))
    db.write_context(session("old", "exec-old"))
    db.write_node(LookupNode(id="old-f", session_id="old", name="f"))
    db.commit()


@pytest.fixture
def reader(store):
    """Another store object on the same database: nothing pending, nothing cached."""
    return GraphLineaDB(store.driver, database=store.database, blobs=store.blobs)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_unit_larger_than_a_transaction_is_invisible_until_published_whole(
        store, reader, workers):
    write_old_session(store)
    store.transaction_nodes = LIMIT
    store.write_workers = workers
    seen = []
    threads = set()

    def check(step: str, done: int) -> None:
        seen.append(step)
        if step == "publish":
            return
        reader.clear_cache()
        assert reader.get_nodes_for_session("big") == []
        with pytest.raises(NotFoundError):
            reader.get_session_context("big")
        with pytest.raises(NotFoundError):
            reader.get_node_by_id("big0-call")
        assert reader.get_variables_for_session("big") == []
        assert reader.get_libraries_for_session("big") == []
        assert [a.name for a in reader.get_all_artifacts()] == []
        assert reader.get_variable_by_id("old-f") == []
        # no stored node has an edge from the new ones yet (impact cannot reach them)
        assert count(store.driver, store.database,
                     "MATCH (:Node {id: 'old-f'})<-[r]-() RETURN count(r)") == 0
        threads.add(threading.current_thread().name)
        if step == "nodes":
            # the other workers' transactions may commit meanwhile, never more of them
            assert 0 < done <= staged_count(store, "big") <= done + (workers - 1) * LIMIT

    store.on_transaction = check
    nodes = buffer_big_session(store)
    stats = store.commit()

    assert seen.count("nodes") == -(-len(nodes) // LIMIT) and "edges" in seen
    # the nodes and edges were written by the workers, the rest by the caller
    used = {t for t in threads if t.startswith("lineagraph-commit")}
    assert (1 < len(used) <= workers) if workers > 1 else not used
    assert seen[-1] == "publish" and stats.transactions == len(seen)
    assert stats.nodes == len(nodes)
    reader.clear_cache()
    assert sorted(reader.get_nodes_for_session("big"), key=lambda n: n.id) == \
        sorted(nodes, key=lambda n: n.id)
    assert reader.get_node_by_id("big-uses-old").function_id == "old-f"
    assert reader.get_variable_by_id(nodes[3].id) == ["x", "x2"]
    assert reader.get_variable_by_id(nodes[-2].id) == ["late"]
    assert reader.get_variable_by_id("old-f") == ["f_again"]
    assert [a.name for a in reader.get_all_artifacts()] == ["big"]
    assert reader.load_node_value(nodes[-1].id, "exec-big") == {"answer": 42}
    assert stand_ins(store) == 0
    assert count(store.driver, store.database,
                 "MATCH (:Session {id: 'big'})<-[r:IN_SESSION]-() RETURN count(r)") == len(nodes)


def committed_graph(store, limit: int, buffer=buffer_big_session):
    """Commit the old session, then what ``buffer`` writes, in transactions of ``limit``
    nodes; the commit's stats and a snapshot of the graph, which is then wiped."""
    from conftest import wipe
    from test_importer import snapshot

    store.transaction_nodes = limit
    write_old_session(store)
    buffer(store)
    stats = store.commit()
    shot = snapshot(store)
    wipe(store.driver, store.database)
    store.ensure_schema()
    store.clear_cache()
    return stats, shot


def test_a_staged_unit_stores_what_one_transaction_stores(store, neo4j_settings, tmp_path):
    """The same unit, committed whole and in transactions of LIMIT nodes, one at a time
    and four at once: equal graphs."""
    whole_stats, whole = committed_graph(store, 10_000)
    store.write_workers = 1
    staged_stats, staged = committed_graph(store, LIMIT)
    store.write_workers = 4
    parallel_stats, parallel = committed_graph(store, LIMIT)
    assert whole_stats.transactions == 1 and staged_stats.transactions > 5
    assert parallel_stats.transactions == staged_stats.transactions
    assert (parallel_stats.nodes, parallel_stats.edges) == (staged_stats.nodes,
                                                            staged_stats.edges)
    assert staged == whole and parallel == whole


def test_a_staged_node_whose_id_is_stored_is_merged_as_one_transaction_merges_it(
        store, neo4j_settings, tmp_path):
    """A new session's nodes are written without looking their ids up, staged or in one
    transaction; one id stored in another session makes the constraint refuse that first
    attempt, and the next one merges it: the two graphs are equal, no stand-in left."""
    def buffer_with_a_stored_id(db):
        buffer_big_session(db)
        db.write_node(LookupNode(id="old-f", session_id="big", name="f"))

    whole_stats, whole = committed_graph(store, 10_000, buffer_with_a_stored_id)
    staged_stats, staged = committed_graph(store, LIMIT, buffer_with_a_stored_id)
    assert whole_stats.attempts == 2 and whole_stats.transactions == 1
    assert staged_stats.attempts == 2 and staged_stats.transactions > 5
    assert staged == whole
    assert stand_ins(store) == 0


def fail_in_the_third_transaction_of_nodes(store, message: str,
                                           error: type = RuntimeError) -> list[str]:
    """Stage the big session in LIMIT-node transactions; the third of nodes raises
    ``error``. The steps of the transactions that ran, as they end."""
    store.transaction_nodes = LIMIT
    steps = []

    def hook(step: str, done: int) -> None:
        steps.append(step)
        if steps.count("nodes") == 3:
            raise error(message)

    store.on_transaction = hook
    buffer_big_session(store)
    return steps


@pytest.mark.parametrize("workers, error", [(1, RuntimeError), (3, RuntimeError),
                                            (3, KeyboardInterrupt)])
def test_a_failure_midway_removes_what_the_unit_wrote(store, reader, workers, error):
    write_old_session(store)
    store.write_workers = workers
    steps = fail_in_the_third_transaction_of_nodes(store, "stop here", error)
    with pytest.raises(error, match="stop here"):
        store.commit()
    # no transaction starts after the failure; those running then (at most one per
    # other worker) finish, and no edge is written
    assert 3 <= steps.count("nodes") <= 3 + workers - 1 and "edges" not in steps
    assert staged_count(store, "big") == 0 and stand_ins(store) == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("lineagraph-commit")]
    assert reader.get_all_artifacts() == []

    store.on_transaction = None  # the same work again: stored whole
    nodes = buffer_big_session(store)
    assert store.commit().nodes == len(nodes)
    assert len(reader.get_nodes_for_session("big")) == len(nodes)


@pytest.mark.parametrize("workers, error", [(1, RuntimeError), (3, RuntimeError),
                                            (3, KeyboardInterrupt)])
def test_a_failure_splitting_the_unit_while_nodes_are_written_removes_them(
        store, reader, workers, error, monkeypatch):
    """The edges and the rest of the unit are split in the caller's thread while the
    workers write nodes: a failure there (or Ctrl-C) ends the run like a worker's."""
    write_old_session(store)
    store.transaction_nodes = LIMIT
    store.write_workers = workers

    def broken(self, rows, staged):
        raise error("split failed")

    with monkeypatch.context() as patch:
        patch.setattr(StagedCommit, "_split", broken)
        buffer_big_session(store)
        with pytest.raises(error, match="split failed"):
            store.commit()
    assert staged_count(store, "big") == 0 and stand_ins(store) == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("lineagraph-commit")]
    nodes = buffer_big_session(store)
    assert store.commit().nodes == len(nodes)
    assert len(reader.get_nodes_for_session("big")) == len(nodes)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failure_once_the_stand_ins_are_written_removes_them(store, reader, error):
    """The check's transaction also writes the stand-ins; a failure as soon as it has
    committed (here: in the progress hook) leaves none behind."""
    write_old_session(store)
    store.transaction_nodes = LIMIT

    def hook(step: str, done: int) -> None:
        if step == "check":
            assert stand_ins(store) == 1  # committed with the check
            raise error("right after the check")

    store.on_transaction = hook
    buffer_big_session(store)
    with pytest.raises(error, match="right after the check"):
        store.commit()
    assert stand_ins(store) == 0 and staged_count(store, "big") == 0
    store.on_transaction = None
    nodes = buffer_big_session(store)
    assert store.commit().nodes == len(nodes)
    assert len(reader.get_nodes_for_session("big")) == len(nodes)


def test_a_staged_unit_pointing_at_a_node_never_written_stores_nothing(store, reader):
    """Refused by the check, before any node is written: no stand-in either."""
    store.transaction_nodes = LIMIT  # no write_old_session: 'old-f' is not stored
    steps = []
    store.on_transaction = lambda step, done: steps.append(step)
    buffer_big_session(store)
    with pytest.raises(NotFoundError, match="'old-f' \\(needed by big-uses-old\\)"):
        store.commit()
    assert steps == [] and stand_ins(store) == 0 and staged_count(store, "big") == 0
    assert reader.get_all_artifacts() == []


@pytest.mark.parametrize("workers", [1, 3])
def test_a_stored_node_deleted_while_the_unit_is_written_is_caught_when_publishing(
        store, reader, workers):
    """The publishing transaction checks the unit's references again: another process
    deleted 'old-f' after the check; nothing of the unit is left."""
    write_old_session(store)
    store.transaction_nodes = LIMIT
    store.write_workers = workers

    def delete_old_f(step: str, done: int) -> None:
        if step == "nodes" and done <= LIMIT:  # the first transaction of nodes to commit
            reader.driver.execute_query("MATCH (n:Node {id: 'old-f'}) DETACH DELETE n",
                                        database_=reader.database)

    store.on_transaction = delete_old_f
    buffer_big_session(store)
    with pytest.raises(NotFoundError, match="'old-f' \\(needed by big-uses-old\\)"):
        store.commit()
    assert stand_ins(store) == 0 and staged_count(store, "big") == 0
    reader.clear_cache()
    assert reader.get_all_artifacts() == [] and reader.get_nodes_for_session("big") == []


def test_the_next_attempt_clears_what_a_dead_writer_left_then_stores_it_whole(
        store, reader, monkeypatch):
    """A stand-in left behind: the next commit of the session removes it and its nodes,
    writes its own stand-in in a transaction of its own ("begin"), and stores the whole
    session, variables included."""
    from lineagraph.store.staging import StagedCommit

    abandon = StagedCommit._abandon
    monkeypatch.setattr(StagedCommit, "_abandon", lambda self: None)  # as if killed
    store.write_workers = 1
    write_old_session(store)
    fail_in_the_third_transaction_of_nodes(store, "writer gone")
    with pytest.raises(RuntimeError, match="writer gone"):
        store.commit()
    assert staged_count(store, "big") == 3 * LIMIT and stand_ins(store) == 1

    monkeypatch.setattr(StagedCommit, "_abandon", abandon)
    steps = []
    store.on_transaction = lambda step, done: steps.append(step)
    nodes = buffer_big_session(store)
    assert store.commit().nodes == len(nodes)
    assert steps[:2] == ["check", "begin"] and steps[-1] == "publish"
    assert stand_ins(store) == 0 and staged_count(store, "big") == len(nodes)
    reader.clear_cache()
    assert sorted(reader.get_nodes_for_session("big"), key=lambda n: n.id) == \
        sorted(nodes, key=lambda n: n.id)
    assert reader.get_variable_by_id(nodes[3].id) == ["x", "x2"]
    assert reader.get_variable_by_id(nodes[-2].id) == ["late"]


SIZE = 20_000


@pytest.mark.slow
def test_a_writer_killed_between_transactions_leaves_nothing_visible_and_the_rerun_stores_it(
        store, neo4j_settings):
    """kill -9 while a 20,000-node unit is written 2,000 nodes per transaction."""
    blobs = str(store.blobs.root)
    env = {"LINEAGRAPH_TRANSACTION_NODES": "2000"}
    proc = start_worker(neo4j_settings, "commit-large", "big", str(SIZE), blobs, **env)
    try:
        wait_for_event(proc, "committing")
        deadline = time.monotonic() + 300
        while staged_count(store, "big") < 6000 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        proc.kill()
    left = staged_count(store, "big")
    assert 6000 <= left < SIZE  # killed midway: three or more of its transactions committed
    reader = GraphLineaDB(store.driver, database=store.database, blobs=store.blobs)
    assert reader.get_nodes_for_session("big") == []
    with pytest.raises(NotFoundError):
        reader.get_session_context("big")
    with pytest.raises(NotFoundError):
        reader.get_node_by_id("big-f")
    assert count(store.driver, store.database, "MATCH (v:NodeValue) RETURN count(v)") == 0

    code, out, err = run_worker(neo4j_settings, "commit-large", "big", str(SIZE), blobs, **env)
    assert code == 0, err
    assert out[-1]["event"] == "committed" and out[-1]["nodes"] == SIZE
    assert staged_count(store, "big") == SIZE and stand_ins(store) == 0
    assert len(reader.get_nodes_for_session("big")) == SIZE
    assert check_blobs(store) == 39


@pytest.mark.slow
def test_a_unit_the_default_server_cannot_hold_in_one_transaction_commits(store):
    """100,000 nodes (with their edges) on the test server's 512 MiB heap, defaults."""
    from workers import large_session

    assert store.transaction_nodes == 2_500
    execution_, context, nodes = large_session("huge", 100_000)
    store.write_execution(execution_)
    store.write_context(context)
    for node in nodes:
        store.write_node(node)
    stats = store.commit()
    # a transaction per 2,500 nodes, then the edges', the first and the publishing one
    assert stats.nodes == 100_000 and stats.transactions >= 100_000 // 2_500 + 2
    assert count(store.driver, store.database,
                 "MATCH (:Session {id: 'huge'})<-[:IN_SESSION]-(n) RETURN count(n)") == 100_000
    assert stats.edges == count(store.driver, store.database,
                                "MATCH (:Node {session_id: 'huge'})-[r]->(:Node) "
                                "RETURN count(r)")


def test_gc_removes_a_commit_whose_writer_died(store, reader, monkeypatch):
    """What a killed writer leaves (its cleanup never ran) is listed once old enough and
    removed by `lineagraph gc`'s call; it was never visible."""
    from lineagraph.store.staging import StagedCommit

    monkeypatch.setattr(StagedCommit, "_abandon", lambda self: None)  # as if killed
    store.write_workers = 1  # exactly three transactions of nodes written
    write_old_session(store)
    fail_in_the_third_transaction_of_nodes(store, "writer gone")
    with pytest.raises(RuntimeError, match="writer gone"):
        store.commit()
    left = staged_count(store, "big")
    assert left == 3 * LIMIT and stand_ins(store) == 1
    assert reader.get_nodes_for_session("big") == []
    assert store.abandoned_commits(min_age=3600) == []  # too young: maybe still writing
    found = store.abandoned_commits(min_age=0)
    assert [(a["id"], a["nodes"]) for a in found] == [("big", left)]
    assert staged_count(store, "big") == left  # listing removes nothing
    assert store.abandoned_commits(min_age=0, remove=True)[0]["id"] == "big"
    assert staged_count(store, "big") == 0 and stand_ins(store) == 0
    assert store.abandoned_commits(min_age=0) == []


def _in_parts(db, stats: list, fresh: bool, stored_id: bool = False) -> None:
    """Session 'parts' buffered and committed in two parts as the recorder sends them
    (``buffer_session``, the second with ``head_stored``), their stats put in ``stats``;
    with ``stored_id``, the second part also holds a node whose id the stored session
    'old' has."""
    from lineagraph.models import SessionGraph

    code = script("parts-code")
    nodes = [n for i in range(2) for n in every_node_type("parts", code, f"parts{i}")]
    halves = [nodes[:16], nodes[16:]]
    if stored_id:
        halves[1].append(LookupNode(id="old-f", session_id="parts", name="f"))
    for index, part in enumerate(halves):
        graph = SessionGraph(context=session("parts", "exec-parts"),
                             execution=execution("exec-parts"),
                             source_codes=[code] if index == 0 else [], nodes=part,
                             variables={part[3].id: [f"x{index}"]})
        db.buffer_session(graph, head_stored=index > 0, fresh=fresh)
        stats.append(db.commit())


def test_fresh_parts_are_created_without_lookups_and_store_what_looked_up_parts_store(store):
    """A recorder's parts (``fresh``: nodes with new ids) are created without asking which
    ids are stored: one statement fewer each, the same graph."""
    looked_up, fresh = [], []
    _, plain = committed_graph(store, 10_000, lambda db: _in_parts(db, looked_up, False))
    _, same = committed_graph(store, 10_000, lambda db: _in_parts(db, fresh, True))
    assert same == plain
    assert [f.statements for f in fresh] == [s.statements - 1 for s in looked_up]
    assert [f.attempts for f in fresh] == [1, 1]


def test_a_part_after_the_first_does_not_write_its_stored_source_code_again(store):
    """The read cache knows the first part stored the code: the second part's commit does
    not send it again (with no cache, it does); the graphs are equal."""
    uncached_db = GraphLineaDB(store.driver, database=store.database, blobs=store.blobs,
                               cache_size=0)
    cached, uncached = [], []
    _, with_cache = committed_graph(store, 10_000, lambda db: _in_parts(db, cached, True))
    _, without = committed_graph(store, 10_000,
                                 lambda db: _in_parts(uncached_db, uncached, True))
    assert with_cache == without
    assert cached[0].statements == uncached[0].statements
    assert cached[1].statements == uncached[1].statements - 1


def test_a_fresh_node_whose_id_is_stored_is_merged_on_the_next_attempt(store):
    """Called fresh but stored after all: the constraint refuses the first attempt, the
    next looks every id up and merges that node, as a looked-up commit does."""
    stats: list = []
    _, plain = committed_graph(store, 10_000, lambda db: _in_parts(db, [], False, True))
    _, merged = committed_graph(store, 10_000, lambda db: _in_parts(db, stats, True, True))
    assert merged == plain
    assert [s.attempts for s in stats] == [1, 2]


@pytest.mark.parametrize("workers", [0, -1, 33, 1.5, "2"])
def test_a_write_workers_argument_out_of_range_is_refused_when_the_store_is_made(
        store, workers):
    with pytest.raises(ValueError, match=rf"write_workers={workers!r}: .* from 1 to 32"):
        GraphLineaDB(store.driver, database=store.database, blobs=store.blobs,
                     write_workers=workers)
