"""The named-query loader, and every shipped .cypher query against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineagraph.errors import QueryFileError
from lineagraph.queries import load_queries, queries


def write(tmp_path, relative, text):
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_blocks_get_dotted_names_docs_and_parameters(tmp_path):
    write(tmp_path, "store/read.cypher",
          "// name: node_by_id\n// One node.\n// Parameters: $id\n"
          "MATCH (n {id: $id}) WHERE n.x <> '$not_a_param' RETURN n;\n\n"
          "// name: count_all\nMATCH (n) RETURN count(n) AS n;\n")
    lib = load_queries(tmp_path)
    assert lib.names() == ["store.count_all", "store.node_by_id"]
    query = lib["store.node_by_id"]
    assert query.params == {"id"}
    assert query.doc == "One node.\nParameters: $id"
    assert query.text.startswith("MATCH (n {id: $id})") and not query.text.endswith(";")
    assert query.line == 1


def test_a_duplicate_name_is_refused_with_both_places(tmp_path):
    write(tmp_path, "a/one.cypher", "// name: q\nRETURN 1;\n")
    second = write(tmp_path, "a/two.cypher", "\n// name: q\nRETURN 2;\n")
    with pytest.raises(QueryFileError) as caught:
        load_queries(tmp_path)
    assert f"{second}:2" in str(caught.value) and "one.cypher:1" in str(caught.value)


@pytest.mark.parametrize("text, where, what", [
    ("// name:\nRETURN 1;\n", 1, "empty query name"),
    ("// name: ok\nRETURN 1;\n// name: Bad-Name\nRETURN 2;\n", 3, "snake_case"),
    ("// name: nothing\n// only a comment\n", 1, "has no Cypher"),
    ("RETURN 1;\n// name: late\nRETURN 2;\n", 1, "before the first"),
])
def test_malformed_files_are_refused_with_file_and_line(tmp_path, text, where, what):
    path = write(tmp_path, "bad.cypher", text)
    with pytest.raises(QueryFileError) as caught:
        load_queries(tmp_path)
    assert f"{path}:{where}" in str(caught.value) and what in str(caught.value)


def test_the_shipped_library_loads():
    assert "admin.components" in queries()


@pytest.mark.parametrize("query", list(queries()), ids=lambda q: q.name)
def test_every_shipped_query_compiles_on_the_server(empty_db, neo4j_settings, query):
    database = "system" if query.name.startswith("admin.") and "SHOW" not in query.text \
        and "dbms" in query.text else neo4j_settings.database
    params = {name: None for name in query.params}
    with empty_db.session(database=database) as session:
        session.run("EXPLAIN " + query.text, params).consume()


def _operators(plan: dict) -> list[tuple[str, str]]:
    found = [(plan["operatorType"].split("@")[0], plan["args"].get("Details", ""))]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


# the migration that gives an old store its captions reads every node, once
SCANS_EVERY_NODE = {"schema.nodes_without_caption"}


def test_no_shipped_query_scans_every_node_but_the_caption_migration(store, neo4j_settings):
    """On a store holding sessions, each query finds nodes through an index or a
    relationship, never by reading every :Node; a session's nodes come from the
    (session_id, id) index, the only one on session_id since schema version 3."""
    from lineagraph.importer import import_lineapy

    fixtures = Path(__file__).parent / "fixtures" / "lineapy"
    import_lineapy(store, fixtures / "list_mutation_alias" / "db.sqlite")
    import_lineapy(store, fixtures / "mixed_kitchen_sink" / "db.sqlite")
    scanning, seeking = {}, set()
    for query in queries():
        if query.name.startswith("admin."):
            continue
        params = {name: None for name in query.params}
        with store.driver.session(database=neo4j_settings.database) as session:
            plan = session.run("EXPLAIN " + query.text, params).consume().plan
        ops = _operators(plan)
        every = [f"{op} {details}" for op, details in ops if op == "AllNodesScan" or
                 (op == "NodeByLabelScan" and details.endswith(":Node"))]
        if every:
            scanning[query.name] = every
        if any(op == "NodeIndexSeek" and "Node(session_id, id)" in details
               for op, details in ops):
            seeking.add(query.name)
    assert set(scanning) == SCANS_EVERY_NODE, scanning
    assert {"store.nodes_for_session", "store.variables_for_session",
            "store.script_code_for_session", "store.artifacts_for_session",
            "store.delete_staged_nodes", "catalog.session_edges"} <= seeking
