"""The example queries in docs/ run on a real store and find what they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphs import T0, cell, session, write_session
from lineagraph.models import Artifact, LiteralNode, NodeValue, SessionType

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```cypher\n(.*?)```", re.S)


def doc_queries():
    for page in sorted(DOCS.glob("*.md")):
        for index, text in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            yield pytest.param(text, id=f"{page.name}-{index}-{text.splitlines()[0][3:40]}")


@pytest.fixture
def populated(store):
    write_session(store)
    store.write_context(session("nb", kind=SessionType.JUPYTER))
    code = cell("cell-2", "nb", 2, "a = 1\n")
    store.write_source_code(code)
    store.write_node(LiteralNode(id="nb-lit", session_id="nb", value=1))
    info = store.save_value([1, 2])
    store.write_node_value(NodeValue(node_id="sess-1-call", execution_id="exec-1",
                                     value=info.key, value_type="value"))
    store.write_artifact(Artifact(node_id="sess-1-call", execution_id="exec-1", name="model",
                                  version=0, date_created=T0))
    store.commit()
    return store


def test_the_schema_page_has_a_query_for_every_relationship_type():
    from lineagraph.mapping import DEPENDENCY_TYPES

    text = (DOCS / "schema.md").read_text()
    queries = "\n".join(BLOCK.findall(text))
    others = ["LOCATED_IN", "IN_SESSION", "IN_EXECUTION", "CELL_OF", "OF_NODE", "VALUE_OF"]
    for rel in DEPENDENCY_TYPES + others:
        assert f":{rel}" in queries or f"|{rel}" in queries, rel


@pytest.mark.parametrize("text", list(doc_queries()))
def test_each_documented_query_returns_rows(populated, text):
    records, _, _ = populated.driver.execute_query(
        text, {"name": "model"}, database_=populated.database)
    assert records, f"no rows from:\n{text}"
