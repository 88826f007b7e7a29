"""LineaPy 0.2.x SQLite rows as lineagraph models: one table-driven place.

A node is its ``node`` row merged with the row of its subtype table (``call_node``,
``lookup``, ...); :data:`NODE_FIELDS` says, per node type, which model field comes
from which column. What is not a plain column (a call's arguments, a literal's value,
a node's location) is built by the few functions below.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Mapping

from .errors import ImportError_
from .models import (
    NODE_CLASSES,
    Artifact,
    BaseNode,
    Execution,
    JupyterCell,
    KeywordArgument,
    NodeType,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)

# model field -> column, per node type (the columns LineaPy's subtype tables hold)
NODE_FIELDS: dict[str, dict[str, str]] = {
    "CallNode": {"function_id": "function_id"},
    "LiteralNode": {},
    "ImportNode": {"name": "name", "version": "version", "package_name": "package_name",
                   "path": "path"},
    "LookupNode": {"name": "name"},
    "MutateNode": {"source_id": "source_id", "call_id": "call_id"},
    "GlobalNode": {"name": "name", "call_id": "call_id"},
    "IfNode": {"test_id": "test_id", "companion_id": "companion_id",
               "unexec_id": "unexec_id"},
    "ElseNode": {"companion_id": "companion_id", "unexec_id": "unexec_id"},
}
# the subtype tables, by node type (if_node and else_node only in later 0.2.x)
SUBTYPE_TABLES = {"call_node": "CallNode", "literal_assign_node": "LiteralNode",
                  "lookup": "LookupNode", "import_node": "ImportNode",
                  "mutate_node": "MutateNode", "global_node": "GlobalNode",
                  "if_node": "IfNode", "else_node": "ElseNode"}


def when(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


# LineaPy's get_literal_value_from_string, for the types it writes
_LITERALS = {"Integer": int, "Float": float, "Boolean": lambda text: text == "True",
             "NoneType": lambda text: None, "Ellipsis": lambda text: ...,
             "String": str, None: str}


def literal(value_type: str | None, text: str) -> Any:
    if value_type not in _LITERALS:
        raise ImportError_(f"literal of unknown value_type {value_type!r}")
    return _LITERALS[value_type](text)


def source_code(row: Mapping) -> SourceCode:
    if row["path"] is not None:
        location: Path | JupyterCell = Path(row["path"])
    else:
        location = JupyterCell(execution_count=row["jupyter_execution_count"],
                               session_id=row["jupyter_session_id"])
    return SourceCode(id=row["id"], code=row["code"] or "", location=location)


def session(row: Mapping) -> SessionContext:
    return SessionContext(
        id=row["id"], environment_type=SessionType[row["environment_type"]],
        python_version=row["python_version"] or "",
        creation_time=when(row["creation_time"]),
        working_directory=row["working_directory"] or "",
        session_name=row["session_name"], user_name=row["user_name"],
        hardware_spec=row.get("hardware_spec"), execution_id=row["execution_id"],
    )


def execution(row: Mapping) -> Execution:
    return Execution(id=row["id"], timestamp=when(row["timestamp"]))


def artifact(row: Mapping) -> Artifact:
    return Artifact(node_id=row["node_id"], execution_id=row["execution_id"],
                    name=row["name"], version=row["version"],
                    date_created=when(row["date_created"]))


def _call_arguments(row: Mapping, links: Mapping[str, Mapping[str, list]]) -> dict:
    """A call's arguments, global reads and implicit dependencies, from their tables
    (``links[table][call id]`` is that table's rows for the call, in order)."""
    def of(table: str) -> list:
        return links[table].get(row["id"], [])

    return {
        "positional_args": [PositionalArgument(id=a["arg_node_id"], starred=bool(a["starred"]))
                            for a in of("positional_arg")],
        "keyword_args": [KeywordArgument(key=a["name"], value=a["arg_node_id"],
                                         starred=bool(a["starred"]))
                         for a in of("keyword_arg")],
        "global_reads": {g["variable_name"]: g["variable_node_id"]
                         for g in of("global_reference")},
        "implicit_dependencies": [a["arg_node_id"] for a in of("implicit_dependency")],
    }


def node(row: Mapping, links: Mapping[str, Mapping[str, list]],
         codes: Mapping[str, SourceCode]) -> BaseNode:
    """The node of a merged node row; ``codes`` holds the source code it may be
    located in."""
    kind = row["node_type"]
    if kind not in NODE_FIELDS:
        raise ImportError_(f"node {row['id']!r} has unknown node_type {kind!r}")
    fields: dict[str, Any] = {"id": row["id"], "session_id": row["session_id"],
                              "control_dependency": row.get("control_dependency")}
    if row.get("source_code_id") is not None:
        fields["source_location"] = SourceLocation(
            lineno=row["lineno"], col_offset=row["col_offset"], end_lineno=row["end_lineno"],
            end_col_offset=row["end_col_offset"], source_code=codes[row["source_code_id"]])
    fields.update({name: row.get(column) for name, column in NODE_FIELDS[kind].items()})
    if kind == "CallNode":
        fields.update(_call_arguments(row, links))
    elif kind == "LiteralNode":
        fields["value"] = literal(row.get("value_type"), row["value"])
    return NODE_CLASSES[NodeType[kind]](**fields)
