"""Small builders of valid LineaPy session graphs for store tests."""

from __future__ import annotations

import datetime
from pathlib import Path

from lineagraph.models import (
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    JupyterCell,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    MutateNode,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)

T0 = datetime.datetime(2024, 5, 1, 12, 30, 15, 123456)


def execution(eid="exec-1") -> Execution:
    return Execution(id=eid, timestamp=T0)


def session(sid="sess-1", eid="exec-1", kind=SessionType.SCRIPT, **extra) -> SessionContext:
    return SessionContext(id=sid, environment_type=kind, python_version="3.10.12",
                          creation_time=T0, working_directory="/home/u/proj",
                          execution_id=eid, **extra)


def script(code_id="code-1", text="import math\nx = math.sqrt(4)\n") -> SourceCode:
    return SourceCode(id=code_id, code=text, location=Path("/home/u/proj/script.py"))


def cell(code_id, sid, count, text) -> SourceCode:
    return SourceCode(id=code_id, code=text,
                      location=JupyterCell(execution_count=count, session_id=sid))


def at(code: SourceCode, line: int, col: int = 0, end_col: int = 10) -> SourceLocation:
    return SourceLocation(lineno=line, col_offset=col, end_lineno=line,
                          end_col_offset=end_col, source_code=code)


def every_node_type(sid="sess-1", code: SourceCode | None = None,
                    prefix: str | None = None) -> list:
    """One node of every type, every field set, in an order where parents come first
    (ids start with ``prefix``, default the session id)."""
    code = code or script()
    p = (prefix or sid) + "-"
    return [
        ImportNode(id=p + "imp", session_id=sid, name="math", version="1.0",
                   package_name="math", path="/usr/lib/python3.10/math.py",
                   source_location=at(code, 1)),
        LookupNode(id=p + "getattr", session_id=sid, name="getattr"),
        LiteralNode(id=p + "lit-str", session_id=sid, value="sqrt"),
        LiteralNode(id=p + "lit-int", session_id=sid, value=2**80,
                    source_location=at(code, 2, 15, 16)),
        LiteralNode(id=p + "lit-float", session_id=sid, value=-0.0),
        LiteralNode(id=p + "lit-bool", session_id=sid, value=True),
        LiteralNode(id=p + "lit-none", session_id=sid, value=None),
        LiteralNode(id=p + "lit-ellipsis", session_id=sid, value=...),
        LiteralNode(id=p + "lit-bytes", session_id=sid, value=b"\x00\xffraw"),
        CallNode(id=p + "attr", session_id=sid, function_id=p + "getattr",
                 positional_args=[PositionalArgument(id=p + "imp"),
                                  PositionalArgument(id=p + "lit-str")]),
        CallNode(id=p + "call", session_id=sid, function_id=p + "attr",
                 positional_args=[PositionalArgument(id=p + "lit-int"),
                                  PositionalArgument(id=p + "lit-int", starred=True)],
                 keyword_args=[KeywordArgument(key="z", value=p + "lit-float"),
                               KeywordArgument(key="a", value=p + "lit-bool", starred=True)],
                 global_reads={"g": p + "lit-none", "h": p + "imp"},
                 implicit_dependencies=[p + "lit-bytes", p + "lit-ellipsis"],
                 source_location=at(code, 2)),
        MutateNode(id=p + "mut", session_id=sid, source_id=p + "lit-str",
                   call_id=p + "call"),
        GlobalNode(id=p + "glob", session_id=sid, name="x", call_id=p + "call"),
        IfNode(id=p + "if", session_id=sid, test_id=p + "lit-bool",
               unexec_id=p + "lit-str", companion_id=p + "else",
               source_location=at(code, 1, 0, 4)),
        ElseNode(id=p + "else", session_id=sid, companion_id=p + "if",
                 unexec_id=p + "lit-none", control_dependency=p + "if"),
        LookupNode(id=p + "inside", session_id=sid, name="print",
                   control_dependency=p + "if"),
    ]


def write_session(db, sid="sess-1", eid="exec-1", nodes=None, code=None):
    code = code or script()
    db.write_execution(execution(eid))
    db.write_context(session(sid, eid))
    db.write_source_code(code)
    nodes = nodes if nodes is not None else every_node_type(sid, code)
    for node in nodes:
        db.write_node(node)
    return nodes
