"""Hostile input: every string we store goes to Neo4j as a parameter, so quotes,
backticks, comments, braces, Cypher keywords, unicode and NUL bytes come back exactly and
never become a query; what cannot be stored is refused with a clear error and nothing is
written; a crafted LineaPy database is refused whole or imported exactly."""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from graphs import T0, execution
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineagraph.errors import (
    ConfigurationError,
    CorruptBlobError,
    ImportError_,
    LineagraphError,
    NotFoundError,
)
from lineagraph.importer import import_lineapy
from lineagraph.lineage import downstream, upstream
from lineagraph.mapping import MAX_KEY_BYTES
from lineagraph.models import (
    Artifact,
    CallNode,
    ImportNode,
    LiteralNode,
    LookupNode,
    NodeValue,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)
from lineagraph.slicing import get_program_slice

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"

HOSTILE = [
    "it's", 'say "hi"', "back`tick`", "`", "a // comment", "/* block */", "{braces}",
    "${param}", "$name", "MATCH (n) DETACH DELETE n", "'}) DETACH DELETE n //",
    '"}]->() CREATE (:Injected) //', "`) MATCH (m) DELETE m //", "CALL db.clearQueryCaches()",
    "nul\x00byte", "ünïcødé 漢字 🧪", "\u202eright-to-left", "line\nbreak\r\n", "\\back\\slash",
    "", " ", "\t", "x" * 3000,
]
TEN_MB = 10 * 1024 * 1024


def fingerprint(store) -> tuple[int, int, list]:
    records, _, _ = store.driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes "
        "OPTIONAL MATCH ()-[r]->() WITH nodes, count(r) AS rels "
        "CALL db.labels() YIELD label RETURN nodes, rels, collect(label) AS labels",
        database_=store.database)
    row = records[0]
    return row["nodes"], row["rels"], sorted(row["labels"])


def hostile_session(store, text: str, sid: str) -> dict:
    """A session where the hostile text is in every string field we store."""
    eid = f"exec {text}"
    code = SourceCode(id=f"code {text}", location=Path(f"/tmp/{text!r}.py"),
                      code=f"x = {text!r}\nprint(x)  # {text}\n")
    loc = SourceLocation(lineno=1, col_offset=0, end_lineno=1, end_col_offset=5,
                         source_code=code)
    nodes = [
        ImportNode(id=f"{sid}-imp {text}", session_id=sid, name=f"lib{text}",
                   version=text, package_name=text, path=text, source_location=loc),
        LookupNode(id=f"{sid}-look {text}", session_id=sid, name=text),
        LiteralNode(id=f"{sid}-lit {text}", session_id=sid, value=text, source_location=loc),
        CallNode(id=f"{sid}-call {text}", session_id=sid, function_id=f"{sid}-look {text}",
                 positional_args=[{"id": f"{sid}-lit {text}"}],
                 keyword_args=[{"key": text, "value": f"{sid}-imp {text}"}],
                 global_reads={text: f"{sid}-lit {text}"}, source_location=loc),
    ]
    store.write_execution(execution(eid))
    store.write_context(SessionContext(
        id=sid, environment_type=SessionType.SCRIPT, python_version=text,
        creation_time=T0, working_directory=text, session_name=text, user_name=text,
        execution_id=eid))
    for node in nodes:
        store.write_node(node)
    store.write_assigned_variable(f"{sid}-call {text}", text)
    info = store.save_value({"text": text})
    store.write_node_value(NodeValue(node_id=f"{sid}-call {text}", execution_id=eid,
                                     value=info.key, value_type="value", start_time=T0,
                                     end_time=T0))
    art = Artifact(node_id=f"{sid}-call {text}", execution_id=eid, name=text,
                   version=0, date_created=T0)
    store.write_artifact(art)
    return {"nodes": nodes, "code": code, "eid": eid, "artifact": art}


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t)[:30] for t in HOSTILE])
def test_hostile_strings_in_every_field_round_trip_and_inject_nothing(store, text):
    before = fingerprint(store)
    made = hostile_session(store, text, "s")
    store.commit()
    store.clear_cache()
    for node in made["nodes"]:
        assert store.get_node_by_id(node.id).model_dump() == node.model_dump()
    context = store.get_session_context("s")
    assert (context.user_name, context.working_directory) == (text, text)
    assert store.get_source_code_for_session("s") == made["code"].code
    assert store.get_variables_for_session("s") == [(f"s-call {text}", text)]
    assert store.get_artifact_by_name(text) == made["artifact"]
    assert store.load_node_value(f"s-call {text}", made["eid"]) == {"text": text}
    assert [lib.name for lib in store.get_libraries_for_session("s")] == [f"lib{text}"]
    # exactly what was written, nothing more, nothing removed, no new labels
    nodes, rels, labels = fingerprint(store)
    assert nodes == before[0] + 4 + 1 + 1 + 1 + 1 + 1  # nodes, session, execution,
    assert "Injected" not in labels                       # code, value, artifact
    sliced = get_program_slice(store, [text])
    assert f"s-call {text}" in sliced.node_ids
    assert f"s-lit {text}" in {n.id for n in upstream(store, node_id=f"s-call {text}")}
    assert f"s-call {text}" in {n.id for n in downstream(store, node_id=f"s-lit {text}")}
    # deleting by the hostile name deletes that artifact only
    assert store.delete_artifact_by_name(text, "all") == 1
    assert fingerprint(store)[0] == nodes - 2  # the artifact and its value


def test_ten_megabyte_strings_are_stored_where_they_fit_and_refused_where_indexed(store):
    big = "é" * (TEN_MB // 2)  # 10 MiB of UTF-8
    code = SourceCode(id="big-code", location=Path("/tmp/big.py"), code=f"x = '{big}'\n")
    loc = SourceLocation(lineno=1, col_offset=0, end_lineno=1, end_col_offset=4,
                         source_code=code)
    store.write_execution(execution("e"))
    store.write_context(SessionContext(id="s", environment_type=SessionType.SCRIPT,
                                       python_version="3", creation_time=T0,
                                       working_directory=big, execution_id="e"))
    store.write_node(LiteralNode(id="lit", session_id="s", value=big, source_location=loc))
    store.write_node(LookupNode(id="look", session_id="s", name=big))
    store.write_assigned_variable("lit", big)
    store.commit()
    store.clear_cache()
    assert store.get_node_by_id("lit").value == big
    assert store.get_node_by_id("look").name == big
    assert store.get_source_code_for_session("s") == code.code
    assert store.get_variables_for_session("s") == [("lit", big)]

    before = fingerprint(store)
    too_long = [
        lambda: store.write_node(LiteralNode(id=big, session_id="s", value=1)),
        lambda: store.write_node(ImportNode(id="imp", session_id="s", name=big)),
        lambda: store.write_artifact(Artifact(node_id="lit", execution_id="e", name=big,
                                              version=0, date_created=T0)),
        lambda: store.save_artifact(big, "lit", "e"),
        lambda: store.write_execution(execution(big)),
        lambda: store.write_context(SessionContext(
            id=big, environment_type=SessionType.SCRIPT, python_version="3",
            creation_time=T0, working_directory="/", execution_id="e")),
        lambda: store.write_source_code(SourceCode(id=big, code="", location=Path("/x"))),
    ]
    for attempt in too_long:
        with pytest.raises(ValueError, match=f"limited to {MAX_KEY_BYTES:,} bytes"):
            attempt()
    store.commit()
    assert fingerprint(store) == before


@pytest.mark.parametrize("bad", ["", "x' OR '1'='1", "*", ".*", "n) DETACH DELETE (n",
                                 "\x00", "🧪" * 10, "a" * 10_000])
def test_malformed_ids_are_not_found_and_change_nothing(store, bad):
    hostile_session(store, "ok", "s")
    store.commit()
    before = fingerprint(store)
    with pytest.raises(NotFoundError):
        store.get_node_by_id(bad)
    with pytest.raises(NotFoundError):
        store.get_session_context(bad)
    with pytest.raises(NotFoundError):
        store.get_artifact_by_name(bad)
    with pytest.raises(NotFoundError):
        store.delete_artifact_by_name(bad, "all")
    assert store.get_nodes_for_session(bad) == []
    assert store.get_artifacts_for_session(bad) == []
    assert store.node_value_in_db(bad, bad) is False
    assert fingerprint(store) == before


@pytest.mark.parametrize("bad", [None, 7, 2.5, b"bytes", ["list"], {"a": 1}])
def test_ids_that_are_not_strings_are_refused_by_writers(store, bad):
    store.write_execution(execution("e"))
    with pytest.raises(TypeError, match="node_id must be a string"):
        store.write_assigned_variable(bad, "x")
    with pytest.raises(TypeError, match="variable name of node 'node' must be a string"):
        store.write_assigned_variable("node", bad)
    with pytest.raises((TypeError, ValueError), match="node_id"):  # pydantic or ours
        store.save_artifact("name", bad, "e")


@pytest.mark.parametrize("key", ["../x", "../../etc/passwd", "/etc/passwd",
                                 "A" * 64, "0" * 63, "0" * 64 + "\n", ""])
def test_blob_keys_that_are_not_sha256_hex_are_refused(store, key):
    with pytest.raises(ConfigurationError, match="invalid blob key"):
        store.blobs.path(key)
    hostile_session(store, "ok", "s")
    store.commit()
    with pytest.raises((ConfigurationError, CorruptBlobError)):
        store.write_node_value(NodeValue(node_id="s-call ok", execution_id="exec ok",
                                         value=key, value_type="value", start_time=T0,
                                         end_time=T0))


def test_a_value_edited_in_the_graph_to_point_outside_the_blob_store_is_not_loaded(store):
    made = hostile_session(store, "ok", "s")
    store.commit()
    store.driver.execute_query("MATCH (v:NodeValue) SET v.value = $bad",
                               bad="../../../etc/passwd", database_=store.database)
    store.clear_cache()
    with pytest.raises(CorruptBlobError, match="not a blob key of this store"):
        store.load_node_value("s-call ok", made["eid"])


# -- a crafted LineaPy database ------------------------------------------------------------
def crafted(tmp_path: Path, case: str = "list_mutation_alias") -> Path:
    target = tmp_path / case
    shutil.copytree(FIXTURES / case, target)
    return target / "db.sqlite"


def sql(path: Path, statement: str, *params) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement, params)


def test_a_crafted_database_with_hostile_text_imports_it_exactly(store, tmp_path):
    path = crafted(tmp_path)
    evil = "'}) DETACH DELETE n // `x` {y} \x00 漢"
    sql(path, "UPDATE artifact SET name = ? || name", evil)
    sql(path, "UPDATE assigned_variable_node SET variable_name = ? || variable_name", evil)
    sql(path, "UPDATE literal_assign_node SET value = ? || value WHERE value_type = 'String'",
        evil)
    sql(path, "UPDATE source_code SET code = code || ?", f"\n# {evil}\n")
    report = import_lineapy(store, path)
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM artifact")}
        variables = {r[0] for r in conn.execute("SELECT variable_name FROM "
                                                "assigned_variable_node")}
        code = conn.execute("SELECT code FROM source_code").fetchone()[0]
        sid = conn.execute("SELECT id FROM session_context").fetchone()[0]
    assert report.artifacts_imported == len(names)
    assert {a.name for a in store.get_all_artifacts()} == names
    assert {name for _, name in store.get_variables_for_session(sid)} == variables
    assert store.get_source_code_for_session(sid) == code
    assert "Injected" not in fingerprint(store)[2]


def test_pickle_names_that_leave_the_pickle_folder_are_not_followed(store, tmp_path):
    path = crafted(tmp_path)
    pickles = path.parent / "pickles"
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    first, second = [r[0] for r in sqlite3.connect(path).execute(
        "SELECT value FROM node_value ORDER BY rowid LIMIT 2")]
    sql(path, "UPDATE node_value SET value = ? WHERE value = ?", str(outside), first)
    sql(path, "UPDATE node_value SET value = ? WHERE value = ?", "../../secret.txt", second)
    link = pickles / "link.pkl"
    os.symlink(outside, link)
    (third,) = sqlite3.connect(path).execute(
        "SELECT value FROM node_value ORDER BY rowid LIMIT 1 OFFSET 2").fetchone()
    sql(path, "UPDATE node_value SET value = ? WHERE value = ?", "link.pkl", third)
    report = import_lineapy(store, path)
    assert b"not yours" not in {store.blobs.get_bytes(k) for k in store.blobs.keys()}
    assert any(str(outside) in m for m in report.values_missing)
    assert any("../../secret.txt" in m for m in report.values_missing)
    assert any("outside" in m and "link.pkl" in m for m in report.values_missing)
    assert report.values_imported == 0 and list(store.blobs.keys()) == []


@pytest.mark.parametrize("damage, names", [
    ("UPDATE node SET node_type = 'EvilNode' WHERE rowid = 3", "unknown node_type 'EvilNode'"),
    ("UPDATE literal_assign_node SET value_type = 'Integer', value = 'one' "
     "WHERE rowid = 1", "invalid literal for int()"),
    ("UPDATE session_context SET environment_type = 'MAINFRAME'", "MAINFRAME"),
    ("UPDATE artifact SET version = -1 WHERE rowid = 1", "must be >=0"),
    ("UPDATE artifact SET name = printf('%.5000c', 'x') WHERE rowid = 1",
     "limited to 4,096 bytes"),
    ("UPDATE import_node SET name = printf('%.5000c', 'm') WHERE rowid = 1",
     "limited to 4,096 bytes"),
    ("UPDATE execution SET timestamp = 'yesterday'", "execution"),
    ("UPDATE artifact SET version = 'v1' WHERE rowid = 1", "artifact"),
    ("UPDATE node SET lineno = 'line one' WHERE source_code_id IS NOT NULL AND rowid = "
     "(SELECT min(rowid) FROM node WHERE source_code_id IS NOT NULL)", "lineno"),
])
def test_a_damaged_row_refuses_the_whole_import_naming_it(store, tmp_path, damage, names):
    path = crafted(tmp_path, "multi_get_across_sessions")
    sql(path, damage)
    before = fingerprint(store)
    with pytest.raises(ImportError_, match="not valid LineaPy data; nothing was imported") \
            as caught:
        import_lineapy(store, path)
    assert names in str(caught.value)
    assert fingerprint(store)[:2] == before[:2]
    assert list(store.blobs.keys()) == []


def test_a_dependency_cycle_in_a_crafted_database_is_walked_once(store, tmp_path):
    """LineaPy graphs are acyclic; a crafted one with a cycle must not hang a walk."""
    path = crafted(tmp_path)
    with sqlite3.connect(path) as conn:
        (node,) = conn.execute("SELECT node_id FROM artifact WHERE name = 'score_total' "
                               "ORDER BY version DESC").fetchone()
        # the call behind the mutated list the artifact is computed from ...
        (arg,) = conn.execute(
            "SELECT m.call_id FROM positional_arg p JOIN mutate_node m "
            "ON m.id = p.arg_node_id WHERE p.call_node_id = ?", (node,)).fetchone()
        # ... now also depends on the artifact itself: a cycle
        conn.execute("INSERT INTO implicit_dependency (call_node_id, arg_node_id, \"index\") "
                     "VALUES (?, ?, 99)", (arg, node))
    import_lineapy(store, path)
    up = {n.id for n in upstream(store, "score_total")}
    assert arg in up  # the artifact depends on the call ...
    assert node in {n.id for n in upstream(store, node_id=arg)}  # ... and now the reverse
    assert get_program_slice(store, ["score_total"]).node_ids >= {node, arg}


# -- fuzzing the public API ------------------------------------------------------------------
names = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, other=names,
       version=st.one_of(st.none(), st.integers(-5, 10**20), names,
                         st.sampled_from(["all", "latest", "0", "-1", "1.5"])))
def test_fuzzed_names_ids_and_versions_give_an_answer_or_a_clear_error(store, name, other,
                                                                       version):
    if not store.get_all_artifacts():
        hostile_session(store, "seed", "s")
        store.commit()
    before = fingerprint(store)
    calls = [
        lambda: store.get_node_by_id(name),
        lambda: store.get_nodes_by_ids([name, other]),
        lambda: store.get_artifact_by_name(name, version),
        lambda: store.get_latest_artifact_version(name),
        lambda: store.artifact_in_db(name, other, name, 0),
        lambda: store.get_artifacts_for_session(name),
        lambda: store.get_session_context(name),
        lambda: store.get_source_code_for_session(name),
        lambda: store.get_variable_by_id(name),
        lambda: upstream(store, name),
        lambda: get_program_slice(store, [(name, version)] if isinstance(version, int)
                                  else [name]),
    ]
    for call in calls:
        try:
            call()
        except (LineagraphError, ValueError, TypeError) as err:
            message = str(err)
            assert message and "Traceback" not in message
    assert fingerprint(store) == before  # reads never write

    # a write of an artifact under the fuzzed name round-trips or is refused clearly
    try:
        saved = store.save_artifact(name, "s-call seed", "exec seed",
                                    date_created=datetime.datetime(2025, 1, 1))
    except (LineagraphError, ValueError, TypeError) as err:
        assert str(err)
        assert fingerprint(store) == before
    else:
        store.clear_cache()
        assert store.get_artifact_by_name(name, saved.version) == saved
        store.delete_artifact_by_name(name, saved.version)
        assert fingerprint(store)[:2] == before[:2]
