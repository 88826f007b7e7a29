"""The named-query loader, and every shipped .cypher query against the real server."""

from __future__ import annotations

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
