"""Commands that change or empty the store (`delete`, `gc`, `demo`), each on its own graph.

Kept apart from test_cli.py, whose tests share one imported graph for the module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lineagraph import GraphLineaDB
from lineagraph.importer import import_lineapy

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "lineagraph.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_delete_and_gc(neo4j_settings, empty_db, tmp_path):
    home = tmp_path / "home"
    db = GraphLineaDB(empty_db, database=neo4j_settings.database, blobs=home / "blobs")
    import_lineapy(db, FIXTURES / "delete_artifact" / "db.sqlite")
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri,
               NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database, LINEAGRAPH_HOME=str(home))
    done = run(env, "delete", "temp", "--version", "latest")
    assert done.returncode == 0 and "Deleted 1 version(s) of 'temp'" in done.stdout
    assert [a["version"] for a in json.loads(run(env, "artifacts", "--name", "temp", "--json").stdout)] == [0]
    orphan = db.blobs.put_bytes(b"nobody points at me")
    assert json.loads(run(env, "gc", "--json").stdout)["unreferenced"] == []  # too fresh
    dry = json.loads(run(env, "gc", "--dry-run", "--grace", "0", "--json").stdout)
    assert dry["unreferenced"] == [orphan.key] and db.blobs.exists(orphan.key)
    real = run(env, "gc", "--grace", "0")
    assert real.returncode == 0 and "Removed 1 unreferenced blob(s)" in real.stdout
    assert not db.blobs.exists(orphan.key)
    for row in db.get_all_artifacts():  # what is still referenced is still there
        assert db.blobs.exists(db.get_node_value_path(row.node_id, row.execution_id))


def test_demo_imports_the_shipped_database_and_prints_a_slice(neo4j_settings, empty_db,
                                                              tmp_path):
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri,
               NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database, LINEAGRAPH_HOME=str(tmp_path),
               COLUMNS="200")
    done = run(env, "demo")
    assert done.returncode == 0, done.stderr
    expected = json.loads((FIXTURES / "list_mutation_alias" / "expected.json").read_text())
    slice_text = expected["program_slice_by_artifact_name_latest"]["sorted_scores"]
    body = done.stdout.split("are left out):\n", 1)[1].split("\n  then paste:")[0]
    assert ast_dump(body) == ast_dump(slice_text)
    assert "sorted_scores" in done.stdout and "[3, 7, 15, 19, 42, 88, 101]" in done.stdout
    again = run(env, "demo")  # idempotent
    assert again.returncode == 0 and "0 session(s) new, 1 already there" in again.stdout


def ast_dump(text: str) -> str:
    import ast

    return ast.dump(ast.parse(text))


def test_init_applies_the_schema_once(neo4j_settings, empty_db, tmp_path):
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri,
               NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database, LINEAGRAPH_HOME=str(tmp_path))
    first = run(env, "init")
    assert first.returncode == 0, first.stderr
    from lineagraph.schema import SCHEMA_VERSION

    assert f"Schema version {SCHEMA_VERSION} is in place" in first.stdout
    assert neo4j_settings.password.get_secret_value() not in first.stdout + first.stderr
    records, _, _ = empty_db.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n",
                                           database_=neo4j_settings.database)
    names = set(records[0]["n"])
    assert {"lineagraph_node_id", "lineagraph_artifact_name_version"} <= names
    again = run(env, "init")
    assert again.returncode == 0
    records, _, _ = empty_db.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n",
                                           database_=neo4j_settings.database)
    assert set(records[0]["n"]) == names
