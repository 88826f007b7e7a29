"""kill -9 in the middle of a large commit and of an import: the store holds all of that
unit or none of it, every blob the graph points at is there and intact, and the same work
run again completes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from reliability import (
    check_blobs,
    count,
    run_worker,
    session_node_count,
    start_worker,
    wait_for_event,
    wait_until_no_commit,
    wait_until_writing,
)
from test_importer import clean_import_snapshot, snapshot


pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
SIZE = 20_000


def test_a_writer_killed_mid_commit_leaves_nothing_and_the_rerun_stores_it_all(
        store, neo4j_settings):
    blobs = str(store.blobs.root)
    one = {"LINEAGRAPH_TRANSACTION_NODES": str(2 * SIZE)}  # the unit in one transaction
    proc = start_worker(neo4j_settings, "commit-large", "big", str(SIZE), blobs, **one)
    try:
        wait_for_event(proc, "committing")
        statement = wait_until_writing(store.driver, store.database, proc.pid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        proc.kill()
    assert "UNWIND" in statement  # it died inside the commit, rows written, not committed
    wait_until_no_commit(store.driver, store.database, proc.pid)
    assert session_node_count(store.driver, store.database, "big") == 0
    assert count(store.driver, store.database, "MATCH (s:Session {id: 'big'}) RETURN count(s)") == 0
    assert count(store.driver, store.database, "MATCH (v:NodeValue) RETURN count(v)") == 0
    # the blobs it wrote before dying are on disk, unreferenced (gc's business), intact
    assert all(store.blobs.verify(k) for k in store.blobs.keys())

    code, out, err = run_worker(neo4j_settings, "commit-large", "big", str(SIZE), blobs,
                                **one)
    assert code == 0, err
    assert out[-1]["event"] == "committed" and out[-1]["nodes"] == SIZE
    assert session_node_count(store.driver, store.database, "big") == SIZE
    assert check_blobs(store) == 39


@pytest.mark.parametrize("transaction_nodes", [10_000, 500], ids=["one", "staged"])
def test_an_import_killed_inside_a_session_commit_then_rerun_equals_a_clean_import(
        store, neo4j_settings, transaction_nodes):
    """The fixture's one session (3,084 nodes) in one transaction, or in transactions of
    500 nodes (two at once) published by the last: killed while writing nodes or edges."""
    path = FIXTURES / "synthetic_long_600" / "db.sqlite"
    clean = clean_import_snapshot(store, path)
    env = {"LINEAGRAPH_TRANSACTION_NODES": str(transaction_nodes)}

    proc = start_worker(neo4j_settings, "import", str(path), str(store.blobs.root), **env)
    try:
        statement = wait_until_writing(store.driver, store.database, proc.pid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        proc.kill()
    assert "UNWIND" in statement
    wait_until_no_commit(store.driver, store.database, proc.pid)
    # the only session of this database was being committed: none of it is visible
    # (a staged one may have left nodes behind its stand-in, which readers never reach)
    if transaction_nodes == 10_000:
        assert count(store.driver, store.database, "MATCH (n:Node) RETURN count(n)") == 0
    else:  # no node of it outside its stand-in (a staged node points at it)
        assert count(store.driver, store.database,
                     "MATCH (n:Node) WHERE NOT EXISTS { (n)-[:IN_SESSION]->(:StagedSession) } "
                     "RETURN count(n)") == 0
    assert count(store.driver, store.database, "MATCH (s:Session) RETURN count(s)") == 0
    assert count(store.driver, store.database, "MATCH (a:Artifact) RETURN count(a)") == 0
    store.clear_cache()
    session_id = "4ef5758c-bfc5-4e98-911c-52d8d4a018c9"
    assert store.get_nodes_for_session(session_id) == [] and store.get_all_artifacts() == []

    code, out, err = run_worker(neo4j_settings, "import", str(path), str(store.blobs.root),
                                **env)
    assert code == 0, err
    assert snapshot(store) == clean
    assert count(store.driver, store.database, "MATCH (t:StagedSession) RETURN count(t)") == 0
    assert check_blobs(store) == 5
