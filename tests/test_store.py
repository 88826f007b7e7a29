"""GraphLineaDB on a real Neo4j: every method, its errors, and the unit of work."""

from __future__ import annotations

import datetime
import pathlib
import re

import pytest

from graphs import T0, at, cell, every_node_type, execution, script, session, write_session
from recorder_helpers import store_env
from lineagraph import GraphLineaDB, parse_artifact_version
from lineagraph.errors import (CorruptBlobError, DuplicateError, NotFoundError,
                               StoreUnavailableError)
from lineagraph.models import (
    Artifact,
    CallNode,
    ImportNode,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    NodeValue,
    PositionalArgument,
    SessionGraph,
    SessionType,
)
from lineagraph.schema import SCHEMA_VERSION, read_schema_version


def count(driver, database, cypher, **params):
    records, _, _ = driver.execute_query(cypher, params, database_=database)
    return records[0][0]


def artifact(name, version, node_id="sess-1-call", eid="exec-1", when=T0):
    return Artifact(node_id=node_id, execution_id=eid, name=name, version=version,
                    date_created=when)


# -- round trips ------------------------------------------------------------------------
def test_every_node_type_with_every_field_round_trips(store):
    nodes = write_session(store)
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    for node in nodes:
        got = store.get_node_by_id(node.id)
        assert type(got) is type(node)
        assert got.model_dump() == node.model_dump()
        if node.source_location is not None:  # SourceCode compares by id: check it all
            assert got.source_location.source_code.model_dump() == \
                node.source_location.source_code.model_dump()


def test_literals_keep_their_exact_type(store):
    nodes = {n.id: n for n in write_session(store)}
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    for node_id in ("sess-1-lit-int", "sess-1-lit-float", "sess-1-lit-bool",
                    "sess-1-lit-none", "sess-1-lit-ellipsis", "sess-1-lit-bytes"):
        value = store.get_node_by_id(node_id).value
        expected = nodes[node_id].value
        assert type(value) is type(expected) and repr(value) == repr(expected)


def test_nodes_for_session_are_exactly_that_sessions_nodes(store):
    first = write_session(store, "sess-1", "exec-1")
    second = write_session(store, "sess-2", "exec-2", code=script("code-2", "y = 1\n"))
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    assert {n.id for n in store.get_nodes_for_session("sess-1")} == {n.id for n in first}
    got = {n.id: n.model_dump() for n in store.get_nodes_for_session("sess-2")}
    assert got == {n.id: n.model_dump() for n in second}
    assert store.get_nodes_for_session("no-such-session") == []


def test_session_context_round_trips_and_a_missing_one_is_named(store):
    ctx = session("sess-1", session_name="nb", user_name="ana", hardware_spec="2 cores")
    store.write_execution(execution())
    store.write_context(ctx)
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    assert store.get_session_context("sess-1").model_dump() == ctx.model_dump()
    with pytest.raises(NotFoundError, match="session 'nope' not found"):
        store.get_session_context("nope")


def test_get_node_by_id_names_a_missing_node(store):
    with pytest.raises(NotFoundError, match="node 'ghost' not found"):
        store.get_node_by_id("ghost")


def test_jupyter_cells_come_back_in_execution_order(store):
    sid = "nb-1"
    store.write_execution(execution())
    store.write_context(session(sid, kind=SessionType.JUPYTER))
    cells = [cell("c3", sid, 3, "z = y\n"), cell("c2", sid, 2, "y = 1\n")]
    for c in cells:
        store.write_source_code(c)
    store.write_node(LiteralNode(id="lit", session_id=sid, value=1, source_location=at(cells[1], 1)))
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    store.write_source_code(cell("c4", sid, 4, "print(z)\n"))  # pending, not committed
    assert store.get_source_code_for_session(sid) == "y = 1\nz = y\nprint(z)\n"
    got = store.get_node_by_id("lit").source_location.source_code
    assert got.model_dump() == cells[1].model_dump()


def test_script_source_code_for_session(store):
    write_session(store)
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    assert store.get_source_code_for_session("sess-1") == script().code


# -- the unit of work ---------------------------------------------------------------------
def test_nothing_reaches_neo4j_before_commit_but_reads_see_pending_writes(store, driver,
                                                                          neo4j_settings):
    write_session(store)
    store.write_assigned_variable("sess-1-call", "x")
    store.write_artifact(artifact("model", 0))
    other = GraphLineaDB(driver, database=neo4j_settings.database, blobs=store.blobs.root)
    assert count(driver, neo4j_settings.database, "MATCH (n:Node) RETURN count(n)") == 0
    with pytest.raises(NotFoundError):
        other.get_node_by_id("sess-1-call")
    # the writer reads its own pending writes
    assert store.get_node_by_id("sess-1-call").id == "sess-1-call"
    assert len(store.get_nodes_for_session("sess-1")) == len(every_node_type())
    assert store.get_artifact_by_name("model").version == 0
    assert store.get_variable_by_id("sess-1-call") == ["x"]
    assert store.get_variables_for_session("sess-1") == [("sess-1-call", "x")]
    assert store.get_session_context("sess-1").id == "sess-1"
    stats = store.commit()
    assert stats.nodes == len(every_node_type()) and stats.edges > 0
    assert other.get_node_by_id("sess-1-call").id == "sess-1-call"
    assert other.get_artifact_by_name("model").version == 0


def test_a_commit_with_a_dangling_reference_stores_nothing(store, driver, neo4j_settings):
    nodes = write_session(store)
    store.write_node(CallNode(id="bad", session_id="sess-1", function_id="not-written"))
    with pytest.raises(NotFoundError) as caught:
        store.commit()
    assert "'not-written' (needed by bad)" in str(caught.value)
    assert "nothing was stored" in str(caught.value)
    assert count(driver, neo4j_settings.database, "MATCH (n) RETURN count(n)") == 1  # schema node
    # the unit was discarded: the next commit does not resend it
    assert store.commit().nodes == 0
    assert len(nodes) == len(every_node_type())


def test_a_commit_that_fails_midway_on_the_server_leaves_nothing(store, driver,
                                                                 neo4j_settings):
    db = neo4j_settings.database
    # A constraint of the test's own makes the server reject the second node batch,
    # after the first batch was already written inside the transaction.
    driver.execute_query("CREATE CONSTRAINT test_lit FOR (n:LiteralNode) REQUIRE n.value IS UNIQUE",
                         database_=db)
    store.batch_size = 1
    store.write_execution(execution())
    store.write_context(session())
    store.write_node(LiteralNode(id="a", session_id="sess-1", value=7))
    store.write_node(LiteralNode(id="b", session_id="sess-1", value=7))
    with pytest.raises(DuplicateError, match="nothing of it was stored"):
        store.commit()
    assert count(driver, db, "MATCH (n:Node|Session|Execution) RETURN count(n)") == 0


def test_commit_batches_large_units_in_few_statements(store, driver, neo4j_settings):
    store.write_execution(execution())
    store.write_context(session())
    store.write_node(LiteralNode(id="lit-0", session_id="sess-1", value=0))
    for i in range(1, 1200):
        store.write_node(CallNode(id=f"call-{i}", session_id="sess-1", function_id="lit-0",
                                  positional_args=[PositionalArgument(id=f"lit-{i - 1}")]
                                  if i == 1 else [PositionalArgument(id=f"call-{i - 1}")]))
    store.batch_size = 500
    stats = store.commit()
    assert stats.nodes == 1200 and stats.edges == 2 * 1199
    # checks + execution + session + 3 node batches + 5 edge batches
    assert stats.statements <= 14
    db = neo4j_settings.database
    assert count(driver, db, "MATCH (:CallNode)-[r:POSITIONAL_ARG]->() RETURN count(r)") == 1199


def test_close_commits_then_releases_an_owned_driver(neo4j_settings, empty_db, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_settings.username)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password.get_secret_value())
    db = GraphLineaDB.from_environment(blobs=tmp_path / "blobs")
    write_session(db)
    db.close()
    assert count(empty_db, neo4j_settings.database,
                 "MATCH (n:Node {session_id: 'sess-1'}) RETURN count(n)") == len(every_node_type())
    with pytest.raises(Exception):
        db.driver.verify_connectivity()


# -- artifacts ---------------------------------------------------------------------------
def test_artifacts_by_name_latest_and_version(store):
    write_session(store)
    store.write_artifact(artifact("model", 0, when=T0))
    store.write_artifact(artifact("model", 1, when=T0 + datetime.timedelta(days=1)))
    store.write_artifact(artifact("other", 0))
    store.commit()
    assert store.get_artifact_by_name("model").version == 1
    assert store.get_artifact_by_name("model", 0).version == 0
    assert store.get_artifact_by_name("model", "0").version == 0
    assert store.get_artifact_by_name("model", 0).date_created == T0
    assert store.get_latest_artifact_version("model") == 1
    assert store.get_latest_artifact_version("never-saved") == -1
    assert [(a.name, a.version) for a in store.get_all_artifacts()] == [
        ("model", 0), ("model", 1), ("other", 0)]
    with pytest.raises(NotFoundError, match="artifact 'model' version 7 not found"):
        store.get_artifact_by_name("model", 7)
    with pytest.raises(NotFoundError, match="artifact 'nothing' not found"):
        store.get_artifact_by_name("nothing")


def test_artifact_in_db_and_artifacts_per_node(store):
    write_session(store)
    store.write_artifact(artifact("a", 0))
    store.write_artifact(artifact("b", 0))
    store.commit()
    assert store.artifact_in_db("sess-1-call", "exec-1", "a", 0) is True
    assert store.artifact_in_db("sess-1-call", "exec-1", "a", 1) is False
    assert store.artifact_in_db("sess-1-imp", "exec-1", "a", 0) is False
    assert store.number_of_artifacts_per_node("sess-1-call", "exec-1") == 2
    assert store.number_of_artifacts_per_node("sess-1-imp", "exec-1") == 0


def test_artifacts_for_session(store):
    write_session(store, "sess-1", "exec-1")
    write_session(store, "sess-2", "exec-2", code=script("code-2", "y = 1\n"))
    store.write_artifact(artifact("one", 0))
    store.write_artifact(artifact("two", 0, node_id="sess-2-call", eid="exec-2"))
    store.commit()
    assert [a.name for a in store.get_artifacts_for_session("sess-1")] == ["one"]
    assert [a.name for a in store.get_artifacts_for_session("sess-2")] == ["two"]


def test_a_second_artifact_with_the_same_name_and_version_is_refused(store, driver,
                                                                      neo4j_settings):
    write_session(store)
    store.write_artifact(artifact("model", 0))
    with pytest.raises(DuplicateError, match="artifact 'model' version 0 already exists"):
        store.write_artifact(artifact("model", 0))  # same unit
    store.commit()
    with pytest.raises(DuplicateError, match="artifact 'model' version 0 already exists"):
        store.write_artifact(artifact("model", 0))  # already stored
    # two writers racing: the second commit is refused whole
    first = GraphLineaDB(driver, database=neo4j_settings.database, blobs=store.blobs.root)
    second = GraphLineaDB(driver, database=neo4j_settings.database, blobs=store.blobs.root)
    first.write_artifact(artifact("race", 0))
    second.write_node(LookupNode_for_race := LiteralNode(id="extra", session_id="sess-1", value=1))
    second.write_artifact(artifact("race", 0))
    first.commit()
    with pytest.raises(DuplicateError, match="'race' version 0 already exists"):
        second.commit()
    with pytest.raises(NotFoundError):
        store.get_node_by_id(LookupNode_for_race.id)


# -- libraries and variables ---------------------------------------------------------------
def test_libraries_are_distinct_by_package_and_version(store):
    store.write_execution(execution())
    store.write_context(session())
    for i, (name, package, version) in enumerate([
        ("pandas", "pandas", "2.0"), ("pandas", "pandas", "2.0"),
        ("pandas.io", "pandas", "2.0"), ("numpy", "numpy", "1.26"),
        ("numpy", "numpy", "2.1"), ("math", None, None),
    ]):
        store.write_node(ImportNode(id=f"imp-{i}", session_id="sess-1", name=name,
                                    package_name=package, version=version))
    store.commit()
    store.clear_cache()  # read back from Neo4j, not from what was written
    libraries = store.get_libraries_for_session("sess-1")
    assert sorted((lib.package_name or lib.name, lib.version) for lib in libraries) == [
        ("math", None), ("numpy", "1.26"), ("numpy", "2.1"), ("pandas", "2.0")]
    assert all(isinstance(lib, ImportNode) for lib in libraries)


def test_assigned_variables(store):
    write_session(store)
    store.write_assigned_variable("sess-1-call", "x")
    store.write_assigned_variable("sess-1-call", "y")
    store.write_assigned_variable("sess-1-imp", "math")
    store.commit()
    store.write_assigned_variable("sess-1-call", "z")
    store.commit()
    assert store.get_variable_by_id("sess-1-call") == ["x", "y", "z"]
    assert store.get_variable_by_id("sess-1-lit-str") == []
    assert store.get_variables_for_session("sess-1") == [
        ("sess-1-call", "x"), ("sess-1-call", "y"), ("sess-1-call", "z"),
        ("sess-1-imp", "math")]


# -- values and blobs ----------------------------------------------------------------------
def save(store, value, node_id="sess-1-call", eid="exec-1"):
    info = store.save_value(value)
    store.write_node_value(NodeValue(node_id=node_id, execution_id=eid, value=info.key,
                                     value_type="value", start_time=T0, end_time=T0))
    return info


def test_node_values_round_trip_through_the_blob_store(store):
    write_session(store)
    info = save(store, {"weights": [1.5, 2.5]})
    assert store.node_value_in_db("sess-1-call", "exec-1")  # pending
    store.commit()
    assert store.node_value_in_db("sess-1-call", "exec-1") is True
    assert store.node_value_in_db("sess-1-imp", "exec-1") is False
    assert store.get_node_value_path("sess-1-call", "exec-1") == info.key
    assert store.load_node_value("sess-1-call", "exec-1") == {"weights": [1.5, 2.5]}
    stored = store.get_node_value_from_db("sess-1-call", "exec-1")
    assert (stored.value_type.value, stored.start_time) == ("value", T0)


def test_a_value_records_the_python_type_its_pickle_builds(store):
    from lineagraph.catalog import list_artifacts

    write_session(store)
    save(store, {"weights": [1.5]})
    save(store, [1, 2], node_id="sess-1-imp")
    store.commit()
    store.save_artifact("weights", "sess-1-call", "exec-1")
    store.save_artifact("pair", "sess-1-imp", "exec-1")
    assert {(i.name, i.python_type, i.value_type) for i in list_artifacts(store)} == {
        ("weights", "builtins.dict", "value"), ("pair", "builtins.list", "value")}
    rows, _, _ = store.driver.execute_query(
        "MATCH (v:NodeValue) RETURN v.node_id AS node, v.python_type AS type",
        database_=store.database)
    assert {(r["node"], r["type"]) for r in rows} == {("sess-1-call", "builtins.dict"),
                                                      ("sess-1-imp", "builtins.list")}


def test_a_value_stored_before_python_type_was_recorded_gets_it_on_read(store):
    from lineagraph.catalog import list_artifacts

    write_session(store)
    save(store, {"weights": [1.5]})
    store.commit()
    store.save_artifact("weights", "sess-1-call", "exec-1")
    store.driver.execute_query("MATCH (v:NodeValue) REMOVE v.python_type",
                               database_=store.database)  # as an older lineagraph wrote it
    assert [i.python_type for i in list_artifacts(store)] == ["builtins.dict"]


def test_a_value_whose_blob_changed_on_disk_is_refused(store):
    write_session(store)
    info = save(store, [1, 2, 3])
    store.commit()
    path = store.blobs.path(info.key)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlobError, match=info.key):
        store.load_node_value("sess-1-call", "exec-1")


def test_a_value_pointing_at_a_missing_blob_is_refused(store):
    write_session(store)
    with pytest.raises(CorruptBlobError, match="not in"):
        store.write_node_value(NodeValue(node_id="sess-1-call", execution_id="exec-1",
                                         value="0" * 64))


def test_unpicklable_values_give_none(store):
    assert store.save_value(lambda: 1) is None


def test_missing_value_path_is_named(store):
    with pytest.raises(NotFoundError, match="no value stored for node 'n' in execution 'e'"):
        store.get_node_value_path("n", "e")
    with pytest.raises(ValueError):  # LineaPy's callers catch ValueError here
        store.get_node_value_path("n", "e")


# -- deletes -------------------------------------------------------------------------------
def test_delete_one_version_latest_and_all(store):
    write_session(store)
    for version in range(4):
        store.write_artifact(artifact("model", version))
    store.commit()
    assert store.delete_artifact_by_name("model", 1) == 1
    assert store.delete_artifact_by_name("model", "latest") == 1
    assert [a.version for a in store.get_all_artifacts()] == [0, 2]
    assert store.delete_artifact_by_name("model", "all") == 2
    assert store.get_latest_artifact_version("model") == -1
    with pytest.raises(NotFoundError, match="artifact 'model' not found"):
        store.delete_artifact_by_name("model", "latest")
    with pytest.raises(NotFoundError, match="artifact 'model' version 9 not found"):
        store.delete_artifact_by_name("model", 9)


def test_deleting_artifacts_removes_only_unreferenced_values_and_blobs(store):
    write_session(store)
    shared = save(store, "same bytes", node_id="sess-1-call")
    save(store, "same bytes", node_id="sess-1-attr")  # a second value, same blob
    own = save(store, "only mine", node_id="sess-1-imp")
    store.write_artifact(artifact("a", 0, node_id="sess-1-call"))
    store.write_artifact(artifact("b", 0, node_id="sess-1-call"))
    store.write_artifact(artifact("c", 0, node_id="sess-1-imp"))
    store.commit()
    store.delete_artifact_by_name("a", 0)
    assert store.node_value_in_db("sess-1-call", "exec-1")  # b still uses it
    store.delete_artifact_by_name("b", 0)
    assert not store.node_value_in_db("sess-1-call", "exec-1")
    assert store.blobs.exists(shared.key)  # the attr value still points at it
    store.delete_artifact_by_name("c", "all")
    assert not store.blobs.exists(own.key)
    store.delete_node_value_from_db("sess-1-attr", "exec-1")
    assert not store.blobs.exists(shared.key)
    with pytest.raises(NotFoundError):
        store.delete_node_value_from_db("sess-1-attr", "exec-1")


# -- versions and schema -------------------------------------------------------------------
@pytest.mark.parametrize("given, expected", [
    (0, 0), (3, 3), ("3", 3), ("2.0", 2), (4.0, 4), ("ALL", "all"), ("latest", "latest")])
def test_versions_parse_as_lineapy_parses_them(given, expected):
    assert parse_artifact_version(given) == expected


@pytest.mark.parametrize("given", [-1, "-2", "one", "", None, True, [1], float("nan")])
def test_bad_versions_are_refused_with_the_rule(given):
    with pytest.raises(ValueError, match="Version"):
        parse_artifact_version(given)


def test_schema_is_idempotent_and_versioned(store, driver, neo4j_settings):
    db = neo4j_settings.database
    before = count(driver, db, "SHOW CONSTRAINTS YIELD name RETURN count(name)")
    assert store.ensure_schema() == SCHEMA_VERSION
    assert count(driver, db, "SHOW CONSTRAINTS YIELD name RETURN count(name)") == before >= 6
    assert read_schema_version(driver, db) == SCHEMA_VERSION


@pytest.mark.parametrize("dropped", ["INDEX lineagraph_located_in_lineno",
                                     "CONSTRAINT lineagraph_source_code_id"])
def test_ensure_schema_writes_nothing_when_all_is_there_and_restores_what_is_missing(
        store, driver, neo4j_settings, dropped):
    db = neo4j_settings.database
    names = "SHOW INDEXES YIELD name RETURN collect(name) AS n"
    applied = "MATCH (m:LineagraphSchema) RETURN m.applied_at AS n"
    complete = count(driver, db, names)
    stamp = count(driver, db, applied)
    assert store.ensure_schema() == SCHEMA_VERSION
    assert count(driver, db, applied) == stamp  # nothing missing: nothing written
    driver.execute_query(f"DROP {dropped}", database_=db)
    assert dropped.split()[1] not in count(driver, db, names)
    assert store.ensure_schema() == SCHEMA_VERSION
    assert sorted(count(driver, db, names)) == sorted(complete)
    assert count(driver, db, applied) != stamp


def test_a_version_2_store_loses_the_session_id_index_and_keeps_its_data(
        store, driver, neo4j_settings):
    from conftest import as_schema_version_2

    db = neo4j_settings.database
    write_session(store, "s", "exec-s", every_node_type("s", script("s-code")), script("s-code"))
    store.commit()
    nodes = count(driver, db, "MATCH (n:Node) RETURN count(n)")
    as_schema_version_2(driver, db)
    indexes = "SHOW INDEXES YIELD name WHERE name STARTS WITH 'lineagraph_node_session' " \
              "RETURN collect(name)"
    assert sorted(count(driver, db, indexes)) == [
        "lineagraph_node_session", "lineagraph_node_session_id"]
    assert read_schema_version(driver, db) == 2
    assert store.ensure_schema() == SCHEMA_VERSION == 3
    assert count(driver, db, indexes) == ["lineagraph_node_session_id"]
    assert read_schema_version(driver, db) == 3
    assert count(driver, db, "MATCH (n:Node) RETURN count(n)") == nodes > 0
    store.clear_cache()
    assert len(store.get_nodes_for_session("s")) == nodes


@pytest.mark.parametrize("start", ["new", "version 2"])
def test_processes_applying_the_schema_to_a_new_store_at_once_all_succeed(
        empty_db, neo4j_settings, start):
    # IF NOT EXISTS is checked per transaction: a process whose index another created
    # in between got EquivalentSchemaRuleAlreadyExists (two `lineagraph run` at once);
    # from a version-2 store, each drops the old session_id index, which Neo4j refuses
    # to drop twice (Neo.DatabaseError.Schema.IndexDropFailed)
    import subprocess
    import sys

    from conftest import as_schema_version_2, wipe
    from lineagraph.schema import ensure_schema
    env = store_env(neo4j_settings, pathlib.Path("/nonexistent-home"))
    apply = ("from lineagraph.environment import resolve_settings;"
             "from lineagraph.connection import open_driver;"
             "from lineagraph.schema import ensure_schema;"
             "print(ensure_schema(open_driver(resolve_settings())))")
    failed = []
    for _ in range(4):
        wipe(empty_db, neo4j_settings.database)
        if start == "version 2":
            ensure_schema(empty_db, neo4j_settings.database)
            as_schema_version_2(empty_db, neo4j_settings.database)
        procs = [subprocess.Popen([sys.executable, "-c", apply], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(3)]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0 or out.strip() != str(SCHEMA_VERSION):
                failed.append(err.strip().splitlines()[-1:])
    assert not failed
    assert read_schema_version(empty_db, neo4j_settings.database) == SCHEMA_VERSION
    assert "lineagraph_node_session" not in count(
        empty_db, neo4j_settings.database, "SHOW INDEXES YIELD name RETURN collect(name)")


def test_a_store_from_a_newer_release_is_refused(store, driver, neo4j_settings):
    driver.execute_query("MATCH (m:LineagraphSchema) SET m.version = 99",
                         database_=neo4j_settings.database)
    with pytest.raises(Exception, match="schema version 99"):
        store.ensure_schema()


def test_a_datetime_neo4j_cannot_store_is_refused_when_written(store):
    odd = datetime.timezone(datetime.timedelta(minutes=5, seconds=30))
    with pytest.raises(ValueError, match="whole minutes"):
        store.write_execution(execution().model_copy(update={"timestamp": T0.replace(tzinfo=odd)}))


def test_aware_and_naive_datetimes_round_trip(store):
    aware = T0.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
    store.write_execution(execution("e-aware").model_copy(update={"timestamp": aware}))
    store.write_context(session("s-aware", "e-aware").model_copy(update={"creation_time": T0}))
    store.commit()
    ctx = store.get_session_context("s-aware")
    assert ctx.creation_time == T0 and ctx.creation_time.tzinfo is None


def test_the_read_cache_follows_commits_and_ignores_failed_ones(store, driver, neo4j_settings):
    write_session(store)
    store.commit()
    original = store.get_node_by_id("sess-1-getattr")
    assert original.name == "getattr"
    # a later commit rewrites the node: this instance sees the new content at once
    store.write_node(original.model_copy(update={"name": "getattr2"}))
    store.commit()
    assert store.get_node_by_id("sess-1-getattr").name == "getattr2"
    # a failed commit leaves both the store and the cache as they were
    store.write_node(original.model_copy(update={"name": "never-stored"}))
    store.write_node(CallNode(id="dangling", session_id="sess-1", function_id="nowhere"))
    with pytest.raises(NotFoundError):
        store.commit()
    assert store.get_node_by_id("sess-1-getattr").name == "getattr2"
    fresh = GraphLineaDB(driver, database=neo4j_settings.database, blobs=store.blobs.root,
                         cache_size=0)
    assert fresh.get_node_by_id("sess-1-getattr").name == "getattr2"


def test_offsets_beyond_eighteen_hours_are_refused_when_written(store):
    far = datetime.timezone(datetime.timedelta(hours=19))
    with pytest.raises(ValueError, match=r"within \+-18 hours"):
        store.write_context(session().model_copy(update={"creation_time": T0.replace(tzinfo=far)}))


def test_a_zoneinfo_datetime_is_stored_as_the_same_instant_and_offset(store):
    from zoneinfo import ZoneInfo

    paris = datetime.datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))
    store.write_execution(execution())
    store.write_context(session().model_copy(update={"creation_time": paris}))
    store.commit()
    store.clear_cache()
    got = store.get_session_context("sess-1").creation_time
    assert got == paris and got.utcoffset() == datetime.timedelta(hours=2)


def test_strings_utf8_cannot_hold_are_refused_naming_the_node(store):
    store.write_execution(execution())
    store.write_context(session())
    with pytest.raises(ValueError, match="node 'bad' contains '\\\\ud800'"):
        store.write_node(LiteralNode(id="bad", session_id="sess-1", value="x\ud800"))
    assert store.commit().nodes == 0


@pytest.mark.parametrize("bad", ["value", "keyword", "node id", "dependency"])
def test_a_session_graph_with_such_a_string_is_refused_naming_the_node(store, bad):
    # write_session checks all its rows at once (validate._text_ok), then names the node
    lit = LiteralNode(id="lit", session_id="sess-1", value="x\ud800" if bad == "value" else 1)
    fn = LookupNode(id="fn" + ("\udc80" if bad == "node id" else ""), session_id="sess-1",
                    name="f")
    call = CallNode(id="call", session_id="sess-1", function_id=fn.id,
                    keyword_args=[KeywordArgument(key="k\udc80" if bad == "keyword" else "k",
                                                  value=lit.id)],
                    implicit_dependencies=["lit\ud800"] if bad == "dependency" else [])
    graph = SessionGraph(context=session(), execution=execution(), nodes=[lit, fn, call])
    offender = {"value": "lit", "keyword": "call", "node id": fn.id, "dependency": "call"}[bad]
    with pytest.raises(ValueError, match=re.escape(f"node {offender!r} contains")):
        store.write_session(graph)
    assert store.commit().nodes == 0


def test_the_fast_text_check_leaves_a_map_to_the_slow_walk():
    # the joined-string check sees only strings, lists and tuples: a map (never a
    # property Neo4j stores, but a row may carry one) goes to check_text, which walks it
    from lineagraph.store.validate import _text_ok

    def row(value):
        return {"props": {"value": value}, "edges": [], "location": None}

    assert _text_ok([row("fine"), row(["a", "b"])])
    assert not _text_ok([row("x\ud800")])
    assert not _text_ok([row({"k\ud800": 1})])
    assert not _text_ok([{"props": {}, "location": None,
                          "edges": [{"dst": "d", "props": {"keys": {"k": "v"}}}]}])


def test_what_the_cache_hands_out_cannot_change_the_cache(store):
    nodes = write_session(store)
    store.commit()
    imp = next(n for n in nodes if n.id == "sess-1-imp")
    imp.version = "9.9"  # the caller mutates its own object after the commit
    got = store.get_node_by_id("sess-1-imp")
    assert got.version == "1.0"
    got.version = "8.8"
    assert store.get_node_by_id("sess-1-imp").version == "1.0"


def test_rewriting_a_node_replaces_its_properties_and_type(store):
    write_session(store)
    store.commit()
    store.write_node(ImportNode(id="sess-1-imp", session_id="sess-1", name="math"))
    store.write_node(LiteralNode(id="sess-1-getattr", session_id="sess-1", value=3))
    store.commit()
    store.clear_cache()
    imp = store.get_node_by_id("sess-1-imp")
    assert (imp.version, imp.package_name, imp.path) == (None, None, None)
    lit = store.get_node_by_id("sess-1-getattr")
    assert isinstance(lit, LiteralNode) and lit.value == 3
    records, _, _ = store.driver.execute_query(
        "MATCH (n:Node {id: 'sess-1-getattr'}) RETURN labels(n) AS labels",
        database_=store.database)
    assert sorted(records[0]["labels"]) == ["LiteralNode", "Node"]


def test_nodes_by_ids_in_one_call(store):
    nodes = write_session(store)
    store.commit()
    store.clear_cache()
    ids = [n.id for n in reversed(nodes)]
    got = store.get_nodes_by_ids(ids)
    assert [n.model_dump() for n in got] == [n.model_dump() for n in reversed(nodes)]
    with pytest.raises(NotFoundError, match="node 'ghost' not found"):
        store.get_nodes_by_ids([ids[0], "ghost"])


# -- save_artifact and retried commits --------------------------------------------------
def test_save_artifact_gives_the_next_version_and_commits_pending_writes(store):
    write_session(store)
    first = store.save_artifact("model", "sess-1-call", "exec-1")
    assert first.version == 0
    store.write_artifact(artifact("model", 5))  # a version chosen by hand leaves a gap
    store.commit()
    assert store.save_artifact("model", "sess-1-call", "exec-1").version == 6
    assert store.save_artifact("other", "sess-1-call", "exec-1", date_created=T0) == \
        artifact("other", 0)
    store.clear_cache()
    assert [a.version for a in store.get_all_artifacts() if a.name == "model"] == [0, 5, 6]
    assert store.get_node_by_id("sess-1-call").id == "sess-1-call"  # the session went too


def test_save_artifact_refuses_a_missing_node_and_stores_nothing(store, driver,
                                                                 neo4j_settings):
    write_session(store)
    store.commit()
    with pytest.raises(NotFoundError, match="'nowhere'"):
        store.save_artifact("model", "nowhere", "exec-1")
    assert count(driver, neo4j_settings.database,
                 "MATCH (a:Artifact) RETURN count(a)") == 0


def test_a_commit_retried_after_it_reached_neo4j_keeps_its_artifacts_once(store, driver,
                                                                         neo4j_settings):
    """When the connection breaks while Neo4j commits (IncompleteCommit), the unit is run
    again: that run must not refuse the unit's own artifacts, nor save a second version;
    a first run that meets them is a real duplicate. (The broken COMMIT itself is not
    reproduced here: the unit's transaction is run twice, as the store then does.)"""
    from lineagraph.store.unit import CommitStats, Unit as _Unit, write_unit as _write_unit

    write_session(store)
    store.commit()
    unit = _Unit()
    unit.artifacts[("model", 0)] = artifact("model", 0)
    unit.next_versions.append((artifact("saved", 0, when=T0 + datetime.timedelta(days=1)),
                               "save-id-1"))
    for retried in (False, True):
        with driver.session(database=neo4j_settings.database) as session:
            stats = CommitStats()
            session.execute_write(lambda tx: _write_unit(tx, unit, 100, stats, retried))
        assert [a.version for a in stats.saved] == [0]
    assert count(driver, neo4j_settings.database, "MATCH (a:Artifact) RETURN count(a)") == 2
    with driver.session(database=neo4j_settings.database) as session:
        with pytest.raises(DuplicateError, match="'model' version 0 already exists"):
            session.execute_write(lambda tx: _write_unit(tx, unit, 100, CommitStats(), False))


def test_a_value_whose_blob_vanished_before_commit_is_refused_and_nothing_stored(
        store, driver, neo4j_settings):
    write_session(store)
    store.commit()
    info = store.save_value([1, 2, 3])
    store.write_node_value(NodeValue(node_id="sess-1-call", execution_id="exec-1",
                                     value=info.key, value_type="value", start_time=T0,
                                     end_time=T0))
    store.write_artifact(artifact("kept?", 0))
    store.blobs.delete(info.key)  # another process's delete, say
    with pytest.raises(CorruptBlobError, match="is gone since write_node_value"):
        store.commit()
    assert count(driver, neo4j_settings.database,
                 "MATCH (x) WHERE x:NodeValue OR x:Artifact RETURN count(x)") == 0


def test_a_commit_with_values_waits_while_blobs_are_being_removed(store, driver,
                                                                  neo4j_settings):
    import threading

    write_session(store)
    store.commit()
    info = store.save_value("v")
    store.write_node_value(NodeValue(node_id="sess-1-call", execution_id="exec-1",
                                     value=info.key, value_type="value", start_time=T0,
                                     end_time=T0))
    done = threading.Event()
    with store.blobs.lock(shared=False):  # as a delete or gc in another process holds it
        worker = threading.Thread(target=lambda: (store.commit(), done.set()))
        worker.start()
        assert not done.wait(1.0)  # the commit waits for the lock ...
        assert count(driver, neo4j_settings.database,
                     "MATCH (v:NodeValue) RETURN count(v)") == 0
    worker.join(60)
    assert done.is_set()  # ... and goes through once it is released
    assert store.load_node_value("sess-1-call", "exec-1") == "v"


def test_bulk_reads_come_in_pages_and_lose_nothing(store, monkeypatch):
    """A session's nodes are read READ_PAGE at a time in id order (the last page short),
    and nodes by id in chunks of it: with pages of 7, a session of 5 x 16 nodes reads
    back whole and equal, the page boundary included."""
    import lineagraph.store.reads as reads

    monkeypatch.setattr(reads, "READ_PAGE", 7)
    code = script()
    nodes = [n for i in range(5) for n in every_node_type("sess-1", code, f"p{i}")]
    write_session(store, nodes=nodes, code=code)
    store.commit()
    fresh = GraphLineaDB(store.driver, database=store.database, blobs=store.blobs)
    by_id = {n.id: n for n in nodes}
    got = fresh.get_nodes_for_session("sess-1")
    assert len(got) == len(nodes) == 80 and {n.id: n for n in got} == by_id
    fresh.clear_cache()
    ids = sorted(by_id)[::-1]
    assert fresh.get_nodes_by_ids(ids) == [by_id[i] for i in ids]


def test_a_bulk_read_that_fails_midway_raises_and_leaves_no_reader_thread(store,
                                                                          monkeypatch):
    """Pages are fetched by a thread of their own, ahead of the models built: an error
    fetching the third page is raised by get_nodes_for_session itself, and the thread
    is gone when it returns."""
    import threading

    import lineagraph.store.reads as reads

    monkeypatch.setattr(reads, "READ_PAGE", 7)
    code = script()
    write_session(store, nodes=[n for i in range(5) for n in
                                every_node_type("sess-1", code, f"p{i}")], code=code)
    store.commit()
    fresh = GraphLineaDB(store.driver, database=store.database, blobs=store.blobs)
    real, calls = fresh._node_rows, []

    def third_page_fails(name, /, **params):
        calls.append(params["after"])
        if len(calls) == 3:
            raise StoreUnavailableError("Neo4j went away reading page 3")
        return real(name, **params)

    monkeypatch.setattr(fresh, "_node_rows", third_page_fails)
    with pytest.raises(StoreUnavailableError, match="page 3"):
        fresh.get_nodes_for_session("sess-1")
    assert not [t for t in threading.enumerate() if t.name == "lineagraph-read"]
    assert len(calls) == 3  # no page was fetched after the failure
