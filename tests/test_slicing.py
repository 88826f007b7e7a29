"""Program slicing on a real Neo4j: LineaPy 0.2.3's own slices of the twelve reference
databases, and graphs with if/else nodes built here (LineaPy 0.2.3 never records them).

LineaPy formats its slices with black and isort; ``str()`` of our slice sorts its import
block with isort as LineaPy did, and we compare as code: ``ast.dump`` of both sides,
exactly. (``as_code``, which also forgives import order, checks the raw, unsorted slice.)
"""

from __future__ import annotations

import ast
import datetime
import json
import re
from functools import lru_cache
from pathlib import Path

import neo4j
import pytest

from conftest import wipe
from graphs import T0, at, cell, execution, session
from lineagraph import GraphLineaDB
from lineagraph import slicing
from lineagraph.errors import NotFoundError
from lineagraph.importer import import_lineapy
from lineagraph.mapping import DEPENDENCY_TYPES
from lineagraph.models import (
    Artifact,
    CallNode,
    ElseNode,
    IfNode,
    LiteralNode,
    LookupNode,
    PositionalArgument,
    SessionType,
    SourceCode,
    SourceLocation,
)
from lineagraph.queries import queries
from lineagraph.slicing import CodeSlice, get_program_slice

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
# the shared fixtures, and a mixed script-and-notebook history recorded with LineaPy here
CASE_DIRS = {p.name: p for root in (FIXTURES, FIXTURES.parent / "lineapy_recorded")
             for p in sorted(root.iterdir()) if (p / "expected.json").is_file()}
CASES = sorted(CASE_DIRS)


@lru_cache(maxsize=None)
def expected(case: str) -> dict:
    return json.loads((CASE_DIRS[case] / "expected.json").read_text(encoding="utf-8"))


def _node_ids(value) -> set[str]:
    return set(ast.literal_eval(value) if isinstance(value, str) else value)


# -- comparing code ------------------------------------------------------------------------
def _canonical_imports(run: list[ast.stmt]) -> list[ast.stmt]:
    plain: set[tuple] = set()
    froms: dict[tuple, set] = {}
    for statement in run:
        names = {(a.name, a.asname or "") for a in statement.names}
        if isinstance(statement, ast.Import):
            plain |= names
        else:
            froms.setdefault((statement.module or "", statement.level), set()).update(names)
    out: list[ast.stmt] = [ast.Import(names=[ast.alias(name=n, asname=a or None)])
                           for n, a in sorted(plain)]
    out += [ast.ImportFrom(module=m or None, level=level,
                           names=[ast.alias(name=n, asname=a or None) for n, a in sorted(ns)])
            for (m, level), ns in sorted(froms.items())]
    return out


def as_code(text: str) -> str:
    """ast.dump of ``text``, each run of top-level imports in a canonical order."""
    tree = ast.parse(text)
    body: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            run.append(statement)
            continue
        body += _canonical_imports(run) + [statement]
        run = []
    tree.body = body + _canonical_imports(run)
    return ast.dump(tree)


def test_the_comparison_forgives_import_order_and_nothing_else():
    assert as_code("import b\nfrom x import c\nimport a\nfrom x import d\ny = 1\n") == \
        as_code("import a\nimport b\nfrom x import c, d\n\ny = 1\n")
    assert as_code("import a\ny = 1\n") != as_code("y = 1\nimport a\n")
    assert as_code("import a\n") != as_code("import a as b\n")
    assert as_code("y = 1\nz = 2\n") != as_code("z = 2\ny = 1\n")


# -- LineaPy's reference databases --------------------------------------------------------
class _CaseLoader:
    """Imports one reference case at a time into the test server, and again only when
    another test emptied the graph (the per-test `store` fixture wipes it)."""

    def __init__(self, driver, database, blobs: Path):
        self.driver, self.database, self.blobs = driver, database, blobs
        self.current: str | None = None
        self.db: GraphLineaDB | None = None

    def _intact(self, case: str) -> bool:
        ids = [s["session_id"] for s in expected(case)["sessions"]]
        records, _, _ = self.driver.execute_query(
            "MATCH (s:Session) WHERE s.id IN $ids AND s.import_complete RETURN count(s) AS n",
            {"ids": ids}, database_=self.database)
        return records[0]["n"] == len(ids)

    def __call__(self, case: str) -> GraphLineaDB:
        if self.current == case and self._intact(case):
            return self.db
        wipe(self.driver, self.database)
        self.db = GraphLineaDB(self.driver, database=self.database, blobs=self.blobs / case)
        import_lineapy(self.db, CASE_DIRS[case] / "db.sqlite")
        self.current = case
        return self.db


@pytest.fixture(scope="module")
def lineapy_case(driver, neo4j_settings, tmp_path_factory):
    return _CaseLoader(driver, neo4j_settings.database, tmp_path_factory.mktemp("blobs"))


ARTIFACTS = [
    pytest.param(case, index, id=f"{case}-{a['name']}-v{a['version']}")
    for case in CASES for index, a in enumerate(expected(case)["artifacts"])
]
LATEST = [
    pytest.param(case, name, id=f"{case}-{name}")
    for case in CASES for name in sorted(expected(case)["program_slice_by_artifact_name_latest"])
]


def test_every_reference_case_is_here():
    assert len(CASES) == 13
    assert len(ARTIFACTS) == sum(len(expected(c)["artifacts"]) for c in CASES) > 40


@pytest.mark.parametrize("case, index", ARTIFACTS)
def test_slice_is_lineapys(lineapy_case, case, index):
    db = lineapy_case(case)
    art = expected(case)["artifacts"][index]
    ours = get_program_slice(db, [(art["name"], art["version"])])
    assert db.get_artifact_by_name(art["name"], art["version"]).node_id == art["node_id"]
    assert ast.dump(ast.parse(str(ours))) == ast.dump(ast.parse(art["program_slice"])), str(ours)
    assert as_code(ours.raw) == as_code(art["program_slice"])
    assert ours.node_ids == _node_ids(art["program_slice_node_ids"])
    # the same sink given as a node id gives the same slice
    by_node = get_program_slice(db, node_ids=[art["node_id"]])
    assert (by_node.import_lines, by_node.body_lines, by_node.node_ids) == \
        (ours.import_lines, ours.body_lines, ours.node_ids)


@pytest.mark.parametrize("case, index", ARTIFACTS)
def test_slice_keeping_lineapy_save_is_lineapys(lineapy_case, case, index):
    db = lineapy_case(case)
    art = expected(case)["artifacts"][index]
    ours = get_program_slice(db, [(art["name"], art["version"])], keep_lineapy_save=True)
    assert ast.dump(ast.parse(str(ours))) == \
        ast.dump(ast.parse(art["program_slice_keep_lineapy_save"])), str(ours)
    assert ours.node_ids >= _node_ids(art["program_slice_node_ids"])


@pytest.mark.parametrize("case, name", LATEST)
def test_slice_of_latest_version_is_lineapys(lineapy_case, case, name):
    db = lineapy_case(case)
    ours = get_program_slice(db, [name])
    assert ast.dump(ast.parse(str(ours))) == ast.dump(ast.parse(
        expected(case)["program_slice_by_artifact_name_latest"][name])), str(ours)
    assert ours.node_ids == get_program_slice(db, [(name, None)]).node_ids


@pytest.mark.parametrize("case, index", ARTIFACTS)
def test_left_out_lines_as_comments_change_no_code(lineapy_case, case, index):
    db = lineapy_case(case)
    art = expected(case)["artifacts"][index]
    plain = get_program_slice(db, [(art["name"], art["version"])])
    shown = get_program_slice(db, [(art["name"], art["version"])], show_left_out=True)
    assert ast.dump(ast.parse(str(shown))) == ast.dump(ast.parse(str(plain)))
    assert shown.node_ids == plain.node_ids
    code = [line for line in shown.body_lines if line.strip() and
            not line.lstrip().startswith("#")]
    assert len(shown.body_lines) >= len(plain.body_lines)
    assert code == [line for line in plain.body_lines if line.strip() and
                    not line.lstrip().startswith("#")]


def test_a_slice_of_several_artifacts_is_their_union(lineapy_case):
    case = "if_elif_else_unexecuted"
    db = lineapy_case(case)
    arts = expected(case)["artifacts"]
    both = get_program_slice(db, [a["name"] for a in arts[:2]])
    assert both.node_ids == _node_ids(arts[0]["program_slice_node_ids"]) | \
        _node_ids(arts[1]["program_slice_node_ids"])


# -- graphs built here ---------------------------------------------------------------------
def code_of(text: str, code_id: str = "code-1") -> SourceCode:
    return SourceCode(id=code_id, code=text, location=Path("/home/u/proj/script.py"))


def lines(code: SourceCode, first: int, last: int) -> SourceLocation:
    return SourceLocation(lineno=first, col_offset=0, end_lineno=last, end_col_offset=1,
                          source_code=code)


def write(db: GraphLineaDB, nodes: list, code: SourceCode | None = None, sid="sess-1",
          eid="exec-1", kind=SessionType.SCRIPT, artifacts: dict | None = None) -> None:
    db.write_execution(execution(eid))
    db.write_context(session(sid, eid, kind=kind))
    if code is not None:
        db.write_source_code(code)
    for node in nodes:
        db.write_node(node)
    for i, (name, node_id) in enumerate((artifacts or {}).items()):
        db.write_artifact(Artifact(node_id=node_id, execution_id=eid, name=name, version=0,
                                   date_created=T0 + datetime.timedelta(seconds=i)))
    db.commit()


IF_ELSE = """x = 5
if x > 3:
    y = 1
else:
    y = 2
z = y + 1
w = 7
"""


def if_else_graph(code: SourceCode, sid="sess-1") -> list:
    """The if branch ran (y = 1, under the IfNode); the else branch did not (its code is
    the literal `unexec`)."""
    p = sid + "-"
    return [
        LiteralNode(id=p + "x", session_id=sid, value=5, source_location=at(code, 1, 4, 5)),
        LookupNode(id=p + "gt", session_id=sid, name="gt"),
        LookupNode(id=p + "add", session_id=sid, name="add"),
        LiteralNode(id=p + "three", session_id=sid, value=3, source_location=at(code, 2, 7, 8)),
        CallNode(id=p + "test", session_id=sid, function_id=p + "gt",
                 positional_args=[PositionalArgument(id=p + "x"),
                                  PositionalArgument(id=p + "three")],
                 source_location=at(code, 2, 3, 8)),
        IfNode(id=p + "if", session_id=sid, test_id=p + "test", companion_id=p + "else",
               source_location=at(code, 2, 0, 9)),
        LiteralNode(id=p + "unexec", session_id=sid, value="    y = 2",
                    source_location=lines(code, 5, 5)),
        ElseNode(id=p + "else", session_id=sid, companion_id=p + "if",
                 unexec_id=p + "unexec", source_location=at(code, 4, 0, 5)),
        LiteralNode(id=p + "y", session_id=sid, value=1, control_dependency=p + "if",
                    source_location=at(code, 3, 8, 9)),
        LiteralNode(id=p + "one", session_id=sid, value=1, source_location=at(code, 6, 8, 9)),
        CallNode(id=p + "z", session_id=sid, function_id=p + "add",
                 positional_args=[PositionalArgument(id=p + "y"),
                                  PositionalArgument(id=p + "one")],
                 source_location=at(code, 6, 4, 9)),
        LiteralNode(id=p + "w", session_id=sid, value=7, source_location=at(code, 7, 4, 5)),
    ]


def test_control_dependency_brings_the_if_its_test_and_the_unexecuted_else(store):
    code = code_of(IF_ELSE)
    write(store, if_else_graph(code), code, artifacts={"z": "sess-1-z"})
    got = get_program_slice(store, ["z"])
    assert str(got) == "x = 5\nif x > 3:\n    y = 1\nelse:\n    y = 2\nz = y + 1\n"
    assert got.import_lines == []
    assert got.node_ids == {f"sess-1-{n}" for n in
                            ("x", "gt", "add", "three", "test", "if", "unexec", "else", "y",
                             "one", "z")}


def test_an_unexecuted_branch_joins_every_slice_and_an_emptied_if_keeps_a_pass(store):
    code = code_of(IF_ELSE)
    write(store, if_else_graph(code), code, artifacts={"w": "sess-1-w"})
    got = get_program_slice(store, ["w"])
    # w needs nothing, but the else branch that never ran is a sink of every slice; it
    # brings its IfNode (companion), whose own body is not in the slice: a pass keeps
    # the block, indented one space deeper than the `if` line, as LineaPy does.
    assert str(got) == "x = 5\nif x > 3:\n pass\nelse:\n    y = 2\nw = 7\n"
    assert "sess-1-y" not in got.node_ids and "sess-1-else" in got.node_ids
    ast.parse(str(got))


def test_an_emptied_else_keeps_a_pass_and_the_companion_is_not_a_dependent(store):
    text = "x = -1\nif x > 3:\n    y = 1\nelse:\n    y = 2\nw = 7\n"
    code = code_of(text)
    sid, p = "sess-1", "sess-1-"
    nodes = [
        LiteralNode(id=p + "x", session_id=sid, value=-1, source_location=at(code, 1, 4, 6)),
        LookupNode(id=p + "gt", session_id=sid, name="gt"),
        LiteralNode(id=p + "three", session_id=sid, value=3, source_location=at(code, 2, 7, 8)),
        CallNode(id=p + "test", session_id=sid, function_id=p + "gt",
                 positional_args=[PositionalArgument(id=p + "x"),
                                  PositionalArgument(id=p + "three")],
                 source_location=at(code, 2, 3, 8)),
        LiteralNode(id=p + "unexec", session_id=sid, value="    y = 1",
                    source_location=lines(code, 3, 3)),
        IfNode(id=p + "if", session_id=sid, test_id=p + "test", companion_id=p + "else",
               unexec_id=p + "unexec", source_location=at(code, 2, 0, 9)),
        ElseNode(id=p + "else", session_id=sid, companion_id=p + "if",
                 source_location=at(code, 4, 0, 5)),
        LiteralNode(id=p + "y", session_id=sid, value=2, control_dependency=p + "else",
                    source_location=at(code, 5, 8, 9)),
        LiteralNode(id=p + "w", session_id=sid, value=7, source_location=at(code, 6, 4, 5)),
    ]
    write(store, nodes, code, artifacts={"w": p + "w", "y": p + "y"})
    assert str(get_program_slice(store, ["w"])) == \
        "x = -1\nif x > 3:\n    y = 1\nelse:\n pass\nw = 7\n"
    # with its body in the slice the else needs no pass
    assert str(get_program_slice(store, ["y"])) == \
        "x = -1\nif x > 3:\n    y = 1\nelse:\n    y = 2\n"


def test_show_left_out_comments_the_other_lines_where_they_stood(store):
    code = code_of(IF_ELSE)
    write(store, if_else_graph(code), code, artifacts={"w": "sess-1-w"})
    got = get_program_slice(store, ["w"], show_left_out=True)
    assert str(got) == ("x = 5\nif x > 3:\n pass\n    # y = 1\nelse:\n    y = 2\n"
                        "# z = y + 1\nw = 7\n")
    assert ast.dump(ast.parse(str(got))) == \
        ast.dump(ast.parse(str(get_program_slice(store, ["w"]))))


SAVES = """import lineapy
a = 1
lineapy.save(a, "a")
print(a)
lineapy.save(a, "again")
"""


def test_keep_lineapy_save_keeps_the_last_save_call_of_the_artifact(store):
    code = code_of(SAVES)
    sid, p = "sess-1", "sess-1-"

    def save(n: int, line: int, name: str) -> list:
        return [
            LiteralNode(id=f"{p}attr{n}", session_id=sid, value="save"),
            CallNode(id=f"{p}getattr{n}", session_id=sid, function_id=p + "getattr",
                     positional_args=[PositionalArgument(id=p + "lineapy"),
                                      PositionalArgument(id=f"{p}attr{n}")],
                     source_location=at(code, line, 0, 12)),
            LiteralNode(id=f"{p}name{n}", session_id=sid, value=name,
                        source_location=at(code, line, 16, 19)),
            CallNode(id=f"{p}save{n}", session_id=sid, function_id=f"{p}getattr{n}",
                     positional_args=[PositionalArgument(id=p + "a"),
                                      PositionalArgument(id=f"{p}name{n}")],
                     source_location=at(code, line, 0, 20)),
        ]

    nodes = [
        LookupNode(id=p + "l_import", session_id=sid, name="l_import"),
        LookupNode(id=p + "getattr", session_id=sid, name="getattr"),
        LookupNode(id=p + "print", session_id=sid, name="print"),
        LiteralNode(id=p + "modname", session_id=sid, value="lineapy"),
        CallNode(id=p + "lineapy", session_id=sid, function_id=p + "l_import",
                 positional_args=[PositionalArgument(id=p + "modname")],
                 source_location=at(code, 1, 0, 14)),
        LiteralNode(id=p + "a", session_id=sid, value=1, source_location=at(code, 2, 4, 5)),
        *save(1, 3, "a"),
        CallNode(id=p + "print_a", session_id=sid, function_id=p + "print",
                 positional_args=[PositionalArgument(id=p + "a")],
                 source_location=at(code, 4, 0, 8)),
        *save(2, 5, "again"),
    ]
    write(store, nodes, code, artifacts={"a": p + "a"})
    assert str(get_program_slice(store, ["a"])) == "a = 1\n"
    kept = get_program_slice(store, ["a"], keep_lineapy_save=True)
    assert kept.raw == 'import lineapy\na = 1\nlineapy.save(a, "again")\n'
    assert str(kept) == 'import lineapy\n\na = 1\nlineapy.save(a, "again")\n'  # isort's blank
    assert p + "save2" in kept.node_ids and p + "save1" not in kept.node_ids


SAME_LINE = """a = [1]; b = 2
c = b + 1
d = f(
    c,
    3)
e = 4
"""


def same_line_graph(code: SourceCode, sid="sess-1") -> list:
    p = sid + "-"
    return [
        LookupNode(id=p + "list", session_id=sid, name="l_list"),
        LookupNode(id=p + "add", session_id=sid, name="add"),
        LookupNode(id=p + "f", session_id=sid, name="f"),
        LiteralNode(id=p + "one", session_id=sid, value=1, source_location=at(code, 1, 5, 6)),
        CallNode(id=p + "a", session_id=sid, function_id=p + "list",
                 positional_args=[PositionalArgument(id=p + "one")],
                 source_location=at(code, 1, 4, 7)),
        LiteralNode(id=p + "b", session_id=sid, value=2, source_location=at(code, 1, 13, 14)),
        LiteralNode(id=p + "one2", session_id=sid, value=1, source_location=at(code, 2, 8, 9)),
        CallNode(id=p + "c", session_id=sid, function_id=p + "add",
                 positional_args=[PositionalArgument(id=p + "b"),
                                  PositionalArgument(id=p + "one2")],
                 source_location=at(code, 2, 4, 9)),
        LiteralNode(id=p + "three", session_id=sid, value=3, source_location=at(code, 5, 4, 5)),
        CallNode(id=p + "d", session_id=sid, function_id=p + "f",
                 positional_args=[PositionalArgument(id=p + "c"),
                                  PositionalArgument(id=p + "three")],
                 source_location=SourceLocation(lineno=3, col_offset=4, end_lineno=5,
                                                end_col_offset=6, source_code=code)),
        LiteralNode(id=p + "e", session_id=sid, value=4, source_location=at(code, 6, 4, 5)),
    ]


@pytest.fixture(params=["walk", "index"])
def line_search(request, store, monkeypatch):
    """Both ways of finding the nodes on a line: walking the code's LOCATED_IN (small
    code) and the LOCATED_IN(lineno) index (big code)."""
    if request.param == "index":
        slicing.ensure_slicing_index(store)
        store.driver.execute_query("CALL db.awaitIndexes(60)", database_=store.database)
        monkeypatch.setattr(slicing, "SMALL_SOURCE_CODE", 0)
        assert store.read_all("slicing.located_in_index_ready")[0]["ready"]
    return request.param


def test_nodes_sharing_a_line_come_with_their_ancestors(store, line_search):
    code = code_of(SAME_LINE)
    write(store, same_line_graph(code), code,
          artifacts={"c": "sess-1-c", "three": "sess-1-three", "e": "sess-1-e"})
    got = get_program_slice(store, ["c"])
    # b = 2 is on line 1, so a = [1] (and its literal and l_list) come along
    assert str(got) == "a = [1]; b = 2\nc = b + 1\n"
    assert {"sess-1-a", "sess-1-one", "sess-1-list"} <= got.node_ids
    assert str(get_program_slice(store, ["e"])) == "e = 4\n"


def test_a_statement_around_the_line_comes_in_whole(store, line_search):
    code = code_of(SAME_LINE)
    write(store, same_line_graph(code), code, artifacts={"three": "sess-1-three"})
    # The literal 3 sits on line 5; the call d = f(...) spans lines 3-5, starting before
    # it, so it comes in, then its ancestors c, b and (same line) a.
    got = get_program_slice(store, ["three"])
    assert str(got) == SAME_LINE.replace("e = 4\n", "")
    assert "sess-1-d" in got.node_ids and "sess-1-e" not in got.node_ids


def test_jupyter_cells_come_in_execution_order(store):
    sid = "nb-1"
    third = cell("cell-3", sid, 3, "y = x + 1\n")
    second = cell("cell-2", sid, 2, "import math\nx = 1\n")
    nodes = [
        LiteralNode(id="lit", session_id=sid, value=1, source_location=at(second, 2, 4, 5)),
        LookupNode(id="add", session_id=sid, name="add"),
        LiteralNode(id="one", session_id=sid, value=1, source_location=at(third, 1, 8, 9)),
        CallNode(id="y", session_id=sid, function_id="add",
                 positional_args=[PositionalArgument(id="lit"), PositionalArgument(id="one")],
                 source_location=at(third, 1, 4, 9)),
    ]
    store.write_execution(execution("exec-1"))
    store.write_context(session(sid, "exec-1", kind=SessionType.JUPYTER))
    store.write_source_code(third)
    store.write_source_code(second)
    for node in nodes:
        store.write_node(node)
    store.commit()
    assert str(get_program_slice(store, node_ids=["y"])) == "x = 1\ny = x + 1\n"


def test_import_lines_come_first(store):
    from lineagraph.models import ImportNode

    text = "x = 1\nimport math\ny = math.pi\n"
    code = code_of(text)
    sid = "sess-1"
    nodes = [
        LiteralNode(id="x", session_id=sid, value=1, source_location=at(code, 1, 4, 5)),
        ImportNode(id="math", session_id=sid, name="math", source_location=at(code, 2, 0, 11)),
        LookupNode(id="getattr", session_id=sid, name="getattr"),
        LiteralNode(id="pi", session_id=sid, value="pi"),
        CallNode(id="y", session_id=sid, function_id="getattr",
                 positional_args=[PositionalArgument(id="math"), PositionalArgument(id="pi")],
                 source_location=at(code, 3, 4, 11)),
    ]
    write(store, nodes, code, sid=sid)
    got = get_program_slice(store, node_ids=["y"])
    assert got.import_lines == ["import math"] and got.body_lines == ["y = math.pi"]
    assert got.raw == "import math\ny = math.pi\n"
    assert str(got) == "import math\n\ny = math.pi\n"  # isort separates the import block


def test_the_walk_stays_in_the_session(store):
    code_1, code_2 = code_of("p = 1\n", "code-1"), code_of("q = f(p)\n", "code-2")
    write(store, [LiteralNode(id="p", session_id="sess-1", value=1,
                              source_location=at(code_1, 1, 4, 5))],
          code_1, sid="sess-1", eid="exec-1")
    # LineaPy builds a slice's graph from one session's nodes: an edge to a node of
    # another session is not followed (the store itself allows one).
    write(store, [LookupNode(id="f", session_id="sess-2", name="f"),
                  CallNode(id="q", session_id="sess-2", function_id="f",
                           positional_args=[PositionalArgument(id="p")],
                           source_location=at(code_2, 1, 4, 8))],
          code_2, sid="sess-2", eid="exec-2")
    got = get_program_slice(store, node_ids=["q"])
    assert got.node_ids == {"q", "f"} and str(got) == "q = f(p)\n"


def test_sinks_of_several_sessions_are_sliced_one_after_the_other(store):
    code_1, code_2 = code_of("p = 1\n", "code-1"), code_of("q = 2\n", "code-2")
    write(store, [LiteralNode(id="q", session_id="sess-2", value=2,
                              source_location=at(code_2, 1, 4, 5))],
          code_2, sid="sess-2", eid="exec-2")
    write(store, [LiteralNode(id="p", session_id="sess-1", value=1,
                              source_location=at(code_1, 1, 4, 5))],
          code_1, sid="sess-1", eid="exec-1")
    # both sessions have the same creation time: ordered by id then
    assert str(get_program_slice(store, node_ids=["q", "p"])) == "p = 1\nq = 2\n"


def test_what_cannot_be_sliced_is_refused(store):
    code = code_of(IF_ELSE)
    write(store, if_else_graph(code), code, artifacts={"w": "sess-1-w"})
    with pytest.raises(ValueError):
        get_program_slice(store)
    with pytest.raises(NotFoundError):
        get_program_slice(store, ["nope"])
    with pytest.raises(NotFoundError):
        get_program_slice(store, [("w", 3)])
    with pytest.raises(NotFoundError, match="no-such-node"):
        get_program_slice(store, node_ids=["no-such-node"])
    with pytest.raises(TypeError):
        get_program_slice(store, [("w", 0, "extra")])
    assert isinstance(get_program_slice(store, [("w", 0)]), CodeSlice)


# -- the walks themselves --------------------------------------------------------------------
def test_the_cypher_walks_follow_exactly_the_dependency_types():
    found = 0
    for query in queries().namespace("slicing"):
        for types in re.findall(r"\[\w*:((?:[A-Z_]+\|)+[A-Z_]+)", query.text):
            assert types.split("|") == DEPENDENCY_TYPES, query.name
            found += 1
    assert found >= 4


def layered_dag(sid: str, width: int, layers: int) -> tuple[list, str]:
    """Every node of a layer depends on every node of the layer before: width**layers
    paths from the sink, width * layers + 2 nodes."""
    nodes = [LookupNode(id=f"{sid}-f", session_id=sid, name="f")]
    for layer in range(layers):
        for j in range(width):
            args = [] if layer == 0 else [PositionalArgument(id=f"{sid}-{layer - 1}-{k}")
                                          for k in range(width)]
            nodes.append(CallNode(id=f"{sid}-{layer}-{j}", session_id=sid,
                                  function_id=f"{sid}-f", positional_args=args))
    nodes.append(CallNode(id=f"{sid}-sink", session_id=sid, function_id=f"{sid}-f",
                          positional_args=[PositionalArgument(id=f"{sid}-{layers - 1}-{k}")
                                           for k in range(width)]))
    return nodes, f"{sid}-sink"


def _profile(store, name: str, **params) -> tuple[int, int, str]:
    def hits(plan) -> int:
        return (plan.get("dbHits") or 0) + sum(hits(c) for c in plan.get("children", []))

    def operators(plan) -> str:
        return plan["operatorType"] + " " + " ".join(operators(c)
                                                     for c in plan.get("children", []))

    with store.driver.session(database=store.database) as session:
        result = session.run(neo4j.Query("PROFILE " + queries()[name].text, timeout=30),
                             params)
        rows = len(list(result))
        plan = result.consume().profile
    return rows, hits(plan), operators(plan)


def test_the_ancestor_walk_visits_nodes_not_paths(store):
    # 4**40 paths: a walk that enumerates paths never ends (the query would time out).
    nodes, sink = layered_dag("sess-1", width=4, layers=40)
    write(store, nodes, sid="sess-1")
    rows, hits, operators = _profile(store, "slicing.ancestors", ids=[sink],
                                     session_id="sess-1", known=[])
    assert rows == len(nodes)
    assert "Pruning" in operators
    edges = sum(len(list(n.parents())) for n in nodes)
    assert hits < 10 * (len(nodes) + edges)
    assert len(get_program_slice(store, node_ids=[sink]).node_ids) == len(nodes)


def test_the_ancestor_walk_costs_the_same_in_a_bigger_session(store):
    def session_with_noise(sid: str, noise: int) -> str:
        nodes, sink = layered_dag(sid, width=3, layers=10)
        for k in range(noise):  # dependents of the slice, and a chain of them
            prev = f"{sid}-n{k - 1}" if k else f"{sid}-{k % 10}-0"
            nodes.append(CallNode(id=f"{sid}-n{k}", session_id=sid, function_id=f"{sid}-f",
                                  positional_args=[PositionalArgument(id=prev),
                                                   PositionalArgument(id=f"{sid}-{k % 10}-1")]))
        write(store, nodes, sid=sid, eid=f"exec-{sid}")
        return sink

    small = session_with_noise("small", 50)
    large = session_with_noise("large", 3000)
    rows_s, hits_s, plan_s = _profile(store, "slicing.ancestors", ids=[small],
                                      session_id="small", known=[])
    rows_l, hits_l, plan_l = _profile(store, "slicing.ancestors", ids=[large],
                                      session_id="large", known=[])
    assert rows_s == rows_l == 32
    assert hits_l <= 1.5 * hits_s, (hits_s, hits_l, plan_s, plan_l)
