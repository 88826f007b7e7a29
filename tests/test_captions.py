"""Captions: every stored node carries the short text Neo4j Browser shows for it, and a
store written before captions existed gets them from ``ensure_schema``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lineagraph.importer import import_lineapy
from lineagraph.mapping import CAPTION_LENGTH, node_caption, trim
from lineagraph.schema import SCHEMA_VERSION, add_captions, read_schema_version

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
KITCHEN = FIXTURES / "mixed_kitchen_sink"
MUTATION = FIXTURES / "list_mutation_alias"


def rows(store, cypher, **params):
    records, _, _ = store.driver.execute_query(cypher, params, database_=store.database)
    return [r.data() for r in records]


def captions(store) -> dict:
    return {r["key"]: r["caption"] for r in rows(
        store, "MATCH (n) WHERE NOT n:LineagraphSchema "
               "RETURN elementId(n) AS key, n.caption AS caption")}


def test_trim_keeps_one_short_line_and_marks_a_cut():
    assert trim("  a =\n   f(x)  ") == "a = f(x)"
    cut = trim("x" * 200)
    assert len(cut) == CAPTION_LENGTH and cut.endswith("…")
    assert trim("y" * CAPTION_LENGTH) == "y" * CAPTION_LENGTH


def test_a_call_is_captioned_by_its_own_source_span():
    code = "a = 1\nb = foo(a,\n        2)  # tail\n"
    position = {"lineno": 2, "col_offset": 4, "end_lineno": 3, "end_col_offset": 10}
    assert node_caption({"node_type": "CallNode"}, position, code) == "foo(a, 2)"
    assert node_caption({"node_type": "CallNode"}) == "call"


def test_branches_say_what_they_are():
    code = "if x > 1:\n    y = 2\nelse:\n    y = 3\n"
    whole = {"lineno": 1, "col_offset": 0, "end_lineno": 2, "end_col_offset": 9}
    test = {"lineno": 1, "col_offset": 3, "end_lineno": 1, "end_col_offset": 8}
    assert node_caption({"node_type": "IfNode"}, whole, code) == "if x > 1: y = 2"
    assert node_caption({"node_type": "IfNode"}, test, code) == "if x > 1"
    assert node_caption({"node_type": "ElseNode"}) == "else"
    assert node_caption({"node_type": "MutateNode"}) == "mutated"


def test_every_imported_node_has_the_caption_of_its_kind(store):
    import_lineapy(store, KITCHEN / "db.sqlite")
    script = (KITCHEN / "script.py").read_text().splitlines()
    conn = sqlite3.connect(KITCHEN / "db.sqlite")
    located = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, lineno, col_offset, end_lineno, end_col_offset FROM node "
        "WHERE source_code_id IS NOT NULL")}
    stored = {r["id"]: r for r in rows(
        store, "MATCH (n:Node) OPTIONAL MATCH (n)-[:MUTATED_BY]->(c) "
               "RETURN n.id AS id, n.node_type AS type, n.caption AS caption, "
               "c.caption AS call")}
    assert len(stored) == conn.execute("SELECT count(*) FROM node").fetchone()[0]
    seen = set()
    for node_id, row in stored.items():
        node = store.get_node_by_id(node_id)
        kind, caption = row["type"], row["caption"]
        assert caption and len(caption) <= CAPTION_LENGTH and "\n" not in caption
        if kind == "ImportNode":
            assert caption == node.name
        elif kind == "LiteralNode":
            assert caption == trim(repr(node.value))
        elif kind in ("LookupNode", "GlobalNode"):
            assert caption == node.name
        elif kind == "MutateNode":
            assert caption == trim("mutated by " + row["call"])
        elif kind == "CallNode" and node_id in located:
            lineno, col, end_lineno, end_col = located[node_id]
            span = script[lineno - 1:end_lineno]
            span[-1] = span[-1][:end_col]
            span[0] = span[0][col:]
            assert caption == trim(" ".join(span)), node_id
        seen.add(kind)
    assert {"ImportNode", "LiteralNode", "CallNode", "MutateNode", "GlobalNode"} <= seen
    assert "import numpy as np" in {r["caption"] for r in stored.values()}


def test_sessions_artifacts_values_and_code_have_captions_too(store):
    import_lineapy(store, KITCHEN / "db.sqlite")
    found = rows(store, "MATCH (x) WHERE x:Session OR x:Execution OR x:SourceCode OR "
                        "x:Artifact OR x:NodeValue RETURN labels(x)[0] AS label, "
                        "x.caption AS caption, properties(x) AS props")
    assert {r["label"] for r in found} == {"Session", "Execution", "SourceCode", "Artifact",
                                           "NodeValue"}
    for r in found:
        assert r["caption"], r
        if r["label"] == "Artifact":
            assert r["caption"] == f"{r['props']['name']} v{r['props']['version']}"
        if r["label"] == "SourceCode":
            assert r["caption"] == "script.py"
        if r["label"] == "Session":
            assert r["caption"].startswith("script session 20")


def test_an_old_store_gets_the_same_captions_from_ensure_schema(store):
    import_lineapy(store, MUTATION / "db.sqlite")
    import_lineapy(store, KITCHEN / "db.sqlite")
    written = captions(store)
    # what lineagraph 0.1 (schema version 1) left behind: no captions anywhere
    rows(store, "MATCH (n) REMOVE n.caption")
    rows(store, "MATCH (m:LineagraphSchema) SET m.version = 1")
    assert set(captions(store).values()) == {None}
    assert store.ensure_schema() == SCHEMA_VERSION
    assert read_schema_version(store.driver, store.database) == SCHEMA_VERSION
    assert captions(store) == written
    assert add_captions(store.driver, store.database) == 0  # nothing left to do


def test_a_current_store_is_not_migrated_again(store):
    import_lineapy(store, MUTATION / "db.sqlite")
    rows(store, "MATCH (n:Node) WITH n LIMIT 1 REMOVE n.caption")
    store.ensure_schema()
    missing = rows(store, "MATCH (n:Node) WHERE n.caption IS NULL RETURN count(n) AS n")
    assert missing == [{"n": 1}]  # current version recorded: ensure_schema does not scan
