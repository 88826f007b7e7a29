"""Importing LineaPy 0.2.3 databases: every fixture, idempotence, resumption, bad input."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import wipe
from lineagraph import GraphLineaDB
from lineagraph.errors import ImportError_
from lineagraph.importer import import_lineapy

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
# the shared fixtures, and a mixed script-and-notebook history recorded with LineaPy here
CASE_DIRS = {p.name: p for root in (FIXTURES, FIXTURES.parent / "lineapy_recorded")
             for p in sorted(root.iterdir()) if (p / "db.sqlite").exists()}
CASES = sorted(CASE_DIRS)

# SQLite table -> how to count its rows in the graph, per session
EDGE_COUNTS = {
    "positional_arg": ("POSITIONAL_ARG", "SELECT count(*) FROM positional_arg p JOIN node n "
                       "ON n.id = p.call_node_id WHERE n.session_id = ?"),
    "keyword_arg": ("KEYWORD_ARG", "SELECT count(*) FROM keyword_arg p JOIN node n "
                    "ON n.id = p.call_node_id WHERE n.session_id = ?"),
    "global_reference": ("READS_GLOBAL", "SELECT count(*) FROM global_reference p JOIN node n "
                         "ON n.id = p.call_node_id WHERE n.session_id = ?"),
    "implicit_dependency": ("IMPLICIT_DEPENDENCY", "SELECT count(*) FROM implicit_dependency p "
                            "JOIN node n ON n.id = p.call_node_id WHERE n.session_id = ?"),
    "call_node": ("CALLS", "SELECT count(*) FROM call_node c JOIN node n ON n.id = c.id "
                  "WHERE n.session_id = ? AND c.function_id IS NOT NULL"),
    "mutate_node.source": ("MUTATES", "SELECT count(*) FROM mutate_node c JOIN node n "
                           "ON n.id = c.id WHERE n.session_id = ?"),
    "mutate_node.call": ("MUTATED_BY", "SELECT count(*) FROM mutate_node c JOIN node n "
                         "ON n.id = c.id WHERE n.session_id = ?"),
    "global_node": ("SET_BY", "SELECT count(*) FROM global_node c JOIN node n ON n.id = c.id "
                    "WHERE n.session_id = ?"),
    "node.control": ("CONTROLLED_BY", "SELECT count(*) FROM node WHERE session_id = ? "
                     "AND control_dependency IS NOT NULL"),
    "node.located": ("LOCATED_IN", "SELECT count(*) FROM node WHERE session_id = ? "
                     "AND source_code_id IS NOT NULL"),
}


def graph_count(store, cypher, **params):
    records, _, _ = store.driver.execute_query(cypher, params, database_=store.database)
    return records[0][0]


def snapshot(store) -> tuple:
    """Everything stored, as order-free sets of tuples (blobs by key)."""
    nodes, _, _ = store.driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props", database_=store.database)
    rels, _, _ = store.driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN coalesce(a.id, a.name, a.node_id) AS a, type(r) AS t, "
        "properties(r) AS p, coalesce(b.id, b.name) AS b", database_=store.database)
    def freeze(d):
        return tuple(sorted((k, repr(v)) for k, v in d.items()
                            if k not in ("applied_at",)))
    return ({(tuple(sorted(r["labels"])), freeze(r["props"])) for r in nodes},
            sorted((r["a"], r["t"], freeze(r["p"]), r["b"]) for r in rels))


def clean_import_snapshot(store, path) -> tuple:
    """The snapshot of a clean import of ``path``; the store is left empty again (schema
    applied), for the test to import it its own way and compare."""
    import_lineapy(store, path)
    clean = snapshot(store)
    wipe(store.driver, store.database)
    store.clear_cache()
    store.ensure_schema()
    return clean


@pytest.mark.parametrize("case", CASES)
def test_every_fixture_imports_with_counts_equal_to_lineapys_tables(store, case):
    db_path = CASE_DIRS[case] / "db.sqlite"
    expected = json.loads((CASE_DIRS[case] / "expected.json").read_text())
    report = import_lineapy(store, db_path)
    counts = expected["table_counts"]
    assert report.nodes_imported == counts["node"]
    assert report.artifacts_imported == counts["artifact"]
    assert report.values_imported == counts["node_value"]
    assert report.variables_imported == counts["assigned_variable_node"]
    assert report.sessions_imported == counts["session_context"]
    assert not report.values_missing and not report.artifact_conflicts
    sql = sqlite3.connect(db_path)
    for (sid,) in sql.execute("SELECT id FROM session_context"):
        rows = sql.execute("SELECT count(*) FROM node WHERE session_id = ?", (sid,)).fetchone()[0]
        assert graph_count(store, "MATCH (n:Node {session_id: $s})-[:IN_SESSION]->(:Session {id: $s}) "
                                  "RETURN count(n)", s=sid) == rows
        for node_type, n in sql.execute(
                "SELECT node_type, count(*) FROM node WHERE session_id = ? GROUP BY 1", (sid,)):
            assert graph_count(store, f"MATCH (n:{node_type} {{session_id: $s}}) RETURN count(n)",
                               s=sid) == n, node_type
        for table, (rel, query) in EDGE_COUNTS.items():
            want = sql.execute(query, (sid,)).fetchone()[0]
            got = graph_count(store, f"MATCH (n:Node {{session_id: $s}})-[r:{rel}]->() "
                                     "RETURN count(r)", s=sid)
            assert got == want, f"{case} {table}: {got} != {want}"
        fresh = GraphLineaDB(store.driver, database=store.database, blobs=store.blobs.root,
                             cache_size=0)  # read from Neo4j, not from the writer's cache
        assert fresh.get_source_code_for_session(sid) == next(
            s["session_code"] for s in expected["sessions"] if s["session_id"] == sid)
        assert fresh.get_session_context(sid).id == sid
    assert graph_count(store, "MATCH (n:Node) RETURN count(n)") == counts["node"]
    assert graph_count(store, "MATCH (a:Artifact) RETURN count(a)") == counts["artifact"]
    assert graph_count(store, "MATCH (v:NodeValue) RETURN count(v)") == counts["node_value"]
    assert graph_count(store, "MATCH (s:Session) RETURN count(s)") == counts["session_context"]


@pytest.mark.parametrize("case", CASES)
def test_every_artifact_value_is_lineapys_pickle(store, case):
    expected = json.loads((CASE_DIRS[case] / "expected.json").read_text())
    import_lineapy(store, CASE_DIRS[case] / "db.sqlite")
    for art in expected["artifacts"]:
        stored = store.get_artifact_by_name(art["name"], art["version"])
        assert (stored.node_id, stored.execution_id) == (art["node_id"], art["execution_id"])
        key = store.get_node_value_path(stored.node_id, stored.execution_id)
        original = (CASE_DIRS[case] / "pickles" / art["pickle"]).read_bytes()
        assert key == hashlib.sha256(original).hexdigest()
        assert store.blobs.get_bytes(key) == original
        if "value_repr" in art:  # builtins: unpickle through the store and compare
            value = store.load_node_value(stored.node_id, stored.execution_id)
            assert value == ast.literal_eval(art["value_repr"]), art["name"]


def test_importing_twice_changes_nothing(store):
    path = FIXTURES / "mixed_kitchen_sink" / "db.sqlite"
    import_lineapy(store, path)
    before = snapshot(store)
    again = import_lineapy(store, path)
    assert (again.sessions_imported, again.sessions_skipped) == (0, 1)
    assert (again.artifacts_imported, again.artifacts_skipped) == (0, 6)
    assert (again.values_imported, again.values_skipped) == (0, 6)
    assert snapshot(store) == before


def _copy_without_last_sessions(tmp_path, case, keep):
    target = tmp_path / case
    shutil.copytree(FIXTURES / case, target)
    sql = sqlite3.connect(target / "db.sqlite")
    drop = [r[0] for r in sql.execute(
        "SELECT id FROM session_context ORDER BY creation_time")][keep:]
    marks = ",".join("?" * len(drop))
    node_ids = f"SELECT id FROM node WHERE session_id IN ({marks})"
    for table, column in [("artifact", "node_id"), ("node_value", "node_id"),
                          ("positional_arg", "call_node_id"), ("keyword_arg", "call_node_id"),
                          ("global_reference", "call_node_id"),
                          ("implicit_dependency", "call_node_id"),
                          ("assigned_variable_node", "id"), ("call_node", "id"),
                          ("literal_assign_node", "id"), ("lookup", "id"), ("import_node", "id"),
                          ("mutate_node", "id"), ("global_node", "id")]:
        sql.execute(f"DELETE FROM {table} WHERE {column} IN ({node_ids})", drop)
    sql.execute(f"DELETE FROM node WHERE session_id IN ({marks})", drop)
    sql.execute(f"DELETE FROM session_context WHERE id IN ({marks})", drop)
    sql.commit()
    sql.close()
    return target / "db.sqlite"


def test_a_later_import_adds_only_the_new_sessions(store, tmp_path):
    early = _copy_without_last_sessions(tmp_path, "multi_get_across_sessions", keep=2)
    first = import_lineapy(store, early)
    assert first.sessions_imported == 2
    later = import_lineapy(store, FIXTURES / "multi_get_across_sessions" / "db.sqlite")
    assert (later.sessions_imported, later.sessions_skipped) == (2, 2)
    assert later.artifacts_skipped == first.artifacts_imported
    full = json.loads((FIXTURES / "multi_get_across_sessions" / "expected.json").read_text())
    assert graph_count(store, "MATCH (n:Node) RETURN count(n)") == full["table_counts"]["node"]


KILLER = textwrap.dedent("""
    import os, signal, sys
    from lineagraph import GraphLineaDB
    from lineagraph.connection import open_driver
    from lineagraph.config import ConnectionSettings
    from lineagraph.importer import import_lineapy
    settings = ConnectionSettings.model_validate_json(sys.stdin.read())
    db = GraphLineaDB(open_driver(settings), database=settings.database, blobs=sys.argv[2])
    finished = []
    def progress(what, done, total):
        finished.append(done)
        if len(finished) == 5:  # after the second session's commit: die like kill -9
            os.kill(os.getpid(), signal.SIGKILL)
    import_lineapy(db, sys.argv[1], progress=progress)
""")


def test_an_import_killed_midway_and_rerun_equals_a_clean_import(store, tmp_path,
                                                                  neo4j_settings):
    path = FIXTURES / "multi_get_across_sessions" / "db.sqlite"
    clean = clean_import_snapshot(store, path)
    settings_json = neo4j_settings.model_dump_json().replace(
        '"**********"', json.dumps(neo4j_settings.password.get_secret_value()))
    done = subprocess.run([sys.executable, "-c", KILLER, str(path), str(store.blobs.root)],
                          input=settings_json, text=True, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr
    sessions = graph_count(store, "MATCH (s:Session) RETURN count(s)")
    assert 0 < sessions < 4  # it really stopped midway
    resumed = import_lineapy(store, path)
    assert resumed.sessions_skipped >= 1
    assert snapshot(store) == clean


def test_a_session_committed_but_not_marked_is_marked_and_not_written_again(store):
    """An import stopped between a session's commit and its completion marker: the rerun
    marks it without writing its nodes again (rewriting a stored session of a million
    nodes would take one transaction of that size)."""
    path = FIXTURES / "synthetic_long_600" / "db.sqlite"
    first = import_lineapy(store, path)
    assert first.nodes_imported > 1000
    before = snapshot(store)
    store.driver.execute_query("MATCH (s:Session) REMOVE s.import_complete, s.imported_nodes",
                               database_=store.database)
    again = import_lineapy(store, path)
    assert (again.sessions_imported, again.sessions_skipped) == (1, 0)
    assert (again.nodes_imported, again.edges_imported) == (0, 0)
    assert snapshot(store) == before  # marked again, nothing else changed
    assert import_lineapy(store, path).sessions_skipped == 1


def test_a_missing_pickle_is_reported_not_fatal(store, tmp_path):
    target = tmp_path / "case"
    shutil.copytree(FIXTURES / "delete_artifact", target)
    victim = sorted((target / "pickles").iterdir())[0]
    victim.unlink()
    report = import_lineapy(store, target / "db.sqlite")
    assert len(report.values_missing) == 1 and victim.name in report.values_missing[0]
    assert report.values_imported == 4


def test_an_artifact_with_other_content_is_a_conflict_and_not_overwritten(store):
    path = FIXTURES / "delete_artifact" / "db.sqlite"
    import_lineapy(store, path)
    keep = store.get_artifact_by_name("keep", 0)
    store.delete_artifact_by_name("keep", 0)
    other_node = store.get_artifact_by_name("draft", 0).node_id
    store.write_artifact(keep.model_copy(update={"node_id": other_node}))
    store.commit()
    report = import_lineapy(store, path)
    assert len(report.artifact_conflicts) == 1 and "'keep' version 0" in report.artifact_conflicts[0]
    assert store.get_artifact_by_name("keep", 0).node_id != keep.node_id


# -- bad input ------------------------------------------------------------------------------
def _assert_refused(store, path, match):
    with pytest.raises(ImportError_, match=match):
        import_lineapy(store, path)
    assert graph_count(store, "MATCH (n:Node|Session|Artifact) RETURN count(n)") == 0


def test_a_file_that_is_not_sqlite_is_refused(store, tmp_path):
    path = tmp_path / "db.sqlite"
    path.write_text("print('hello')\n")
    _assert_refused(store, path, "is not a SQLite database")


def test_a_missing_file_is_refused(store, tmp_path):
    _assert_refused(store, tmp_path / "nope.sqlite", "does not exist")


def test_a_sqlite_file_that_is_not_lineapys_is_refused(store, tmp_path):
    path = tmp_path / "other.sqlite"
    sql = sqlite3.connect(path)
    sql.execute("CREATE TABLE node (id TEXT)")
    sql.commit()
    sql.close()
    _assert_refused(store, path, "is not a LineaPy database: tables .*call_node")


def test_an_unknown_lineapy_schema_version_is_refused(store, tmp_path):
    target = tmp_path / "case"
    shutil.copytree(FIXTURES / "list_mutation_alias", target)
    sql = sqlite3.connect(target / "db.sqlite")
    sql.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    sql.commit()
    sql.close()
    _assert_refused(store, target / "db.sqlite", "schema version ffffffffffff")


def test_dangling_references_are_refused_before_anything_is_written(store, tmp_path):
    target = tmp_path / "case"
    shutil.copytree(FIXTURES / "list_mutation_alias", target)
    sql = sqlite3.connect(target / "db.sqlite")
    call = sql.execute("SELECT id FROM call_node LIMIT 1").fetchone()[0]
    sql.execute("INSERT INTO positional_arg VALUES (?, 'ghost-node', 0, 99)", (call,))
    sql.commit()
    sql.close()
    _assert_refused(store, target / "db.sqlite", "(?s)dangling reference.*'ghost-node'")


def test_the_cli_reports_bad_input_in_one_line_with_a_non_zero_exit(tmp_path, neo4j_settings):
    path = tmp_path / "db.sqlite"
    path.write_bytes(b"not sqlite at all")
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri, NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               LINEAGRAPH_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "import-lineapy", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 7
    assert done.stderr.strip().splitlines() == [f"error: {path} is not a SQLite database"]


def test_the_cli_imports_and_prints_a_report(tmp_path, neo4j_settings, empty_db):
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri, NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               LINEAGRAPH_HOME=str(tmp_path / "home"))
    path = FIXTURES / "nb_basic_cells" / "db.sqlite"
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "import-lineapy", str(path),
                           "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["nodes_imported"] == 81 and report["artifacts_imported"] == 3
    # reading and checking the file is timed apart, as part of the whole
    assert 0 < report["read_seconds"] < report["seconds"]


def test_progress_follows_a_large_session_transaction_by_transaction(store):
    """A session larger than one transaction reports each transaction of its nodes, then
    its edges, not only its start and end (a million nodes take minutes)."""
    path = FIXTURES / "synthetic_long_600" / "db.sqlite"
    store.transaction_nodes = 200
    calls = []
    report = import_lineapy(store, path, progress=lambda *call: calls.append(call))
    total = report.nodes_imported
    assert total > 1000 and report.sessions_imported == 1
    done = [d for what, d, t in calls if t == total and what.startswith("session ")]
    assert done[0] == 0 and done[-1] == total and done == sorted(done)
    steps = {d for d in done if 0 < d < total}
    assert len(steps) >= total // 200 - 1  # one report per transaction of nodes
    assert any(what.endswith("edges written") for what, _, _ in calls)
    assert store.on_transaction is None  # the caller's hook is back
