"""The named-query loader, and every shipped .cypher query against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineagraph.errors import QueryFileError
from lineagraph.mapping import DEPENDENCY_TYPES
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


# the queries that find a session's nodes by its id
SESSION_LOOKUPS = ["store.nodes_for_session", "store.variables_for_session",
                   "store.libraries_for_session",
                   "store.script_code_for_session", "store.artifacts_for_session",
                   "store.delete_staged_nodes", "catalog.session_edges"]


def test_a_session_s_nodes_are_found_by_the_session_id_index_not_by_reading_all(
        store, neo4j_settings):
    """Since schema version 3 the (session_id, id) index is the only one on session_id:
    each query for a session's nodes seeks it, and none reads every :Node (a label scan
    or a whole index of :Node, such as the id index for `n.id IS NOT NULL`)."""
    from lineagraph.importer import import_lineapy

    fixtures = Path(__file__).parent / "fixtures" / "lineapy"
    import_lineapy(store, fixtures / "list_mutation_alias" / "db.sqlite")
    import_lineapy(store, fixtures / "mixed_kitchen_sink" / "db.sqlite")
    # the planner uses an index once it is online (ensure_schema does not wait for the
    # indexes it creates) and plans by its sampled statistics, which Neo4j refreshes
    # after enough writes; here at once (an index sampled empty looks unselective)
    for call in ("CALL db.awaitIndexes(300)", "CALL db.prepareForReplanning(300000)"):
        store.driver.execute_query(call, database_=neo4j_settings.database)
    # values of the types the store sends: Neo4j plans a null parameter otherwise
    records, _, _ = store.driver.execute_query("MATCH (s:Session) RETURN s.id AS id LIMIT 1",
                                               database_=neo4j_settings.database)
    typed = {"session_id": records[0]["id"], "after": "", "page": 1000, "limit": 1000,
             "dependency_types": list(DEPENDENCY_TYPES), "token": "a writer's token"}
    wrong = {}
    with store.driver.session(database=neo4j_settings.database) as session:
        plans = {name: session.run("EXPLAIN " + queries()[name].text,
                                   {param: typed[param] for param in queries()[name].params}
                                   ).consume().plan for name in SESSION_LOOKUPS}
    for name, plan in plans.items():
        ops = _operators(plan)
        reads_all = [(op, details) for op, details in ops if op == "AllNodesScan" or
                     (op == "NodeByLabelScan" and details.endswith(":Node")) or
                     (op == "NodeIndexScan" and ":Node(" in details)]
        seeks = any(op == "NodeIndexSeek" and "Node(session_id, id)" in details
                    for op, details in ops)
        if reads_all or not seeks:
            wrong[name] = ops
    assert not wrong
