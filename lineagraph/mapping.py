"""The one place that maps lineage models to graph rows and back.

Labels and relationship types come only from the fixed tables below; values always
travel as query parameters. Every node is ``:Node`` plus the label of its type, and
each dependency is a relationship *from the dependent node to the node it depends on*,
typed by its role:

==========================  =================  ==============================
relationship                from -> to         properties (the role's data)
==========================  =================  ==============================
CALLS                       CallNode -> fn     -
POSITIONAL_ARG              CallNode -> arg    index, starred
KEYWORD_ARG                 CallNode -> arg    name, starred, index (order)
READS_GLOBAL                CallNode -> value  name (the variable read)
IMPLICIT_DEPENDENCY         CallNode -> node   index
MUTATES                     MutateNode -> old  - (the value that was mutated)
MUTATED_BY                  MutateNode -> call - (the call that mutated it)
SET_BY                      GlobalNode -> call - (the call that set the global)
CONTROLLED_BY               any -> If/Else     - (control dependency)
TESTS                       IfNode -> test     -
COMPANION                   If <-> Else        -
UNEXECUTED                  If/Else -> code    - (literal of the branch not run)
LOCATED_IN                  Node -> SourceCode lineno, col_offset, end_lineno, end_col_offset
IN_SESSION                  Node -> Session    -
==========================  =================  ==============================
"""

from __future__ import annotations

import datetime
import functools
from pathlib import Path
from typing import Any, Iterable, Mapping

from ._driver import neo4j  # noqa: F401  (first: the driver without NumPy and pandas)
from neo4j.time import DateTime as Neo4jDateTime
from pydantic import TypeAdapter

from .models import (
    NODE_CLASSES,
    Artifact,
    BaseNode,
    Execution,
    JupyterCell,
    NodeType,
    NodeValue,
    SessionContext,
    SessionType,
    SourceCode,
    decode_literal,
    encode_literal,
)

# The fixed label table: node type -> the label added to :Node.
NODE_LABELS: dict[NodeType, str] = {t: t.name for t in NODE_CLASSES}

# The fixed relationship table: (type, model field, shape). Shapes: "one" an id field;
# "list" a list of ids ordered by index; "positional"/"keyword" argument lists;
# "dict" a name -> id mapping.
DEPENDENCIES: list[tuple[str, str, str]] = [
    ("CALLS", "function_id", "one"),
    ("POSITIONAL_ARG", "positional_args", "positional"),
    ("KEYWORD_ARG", "keyword_args", "keyword"),
    ("READS_GLOBAL", "global_reads", "dict"),
    ("IMPLICIT_DEPENDENCY", "implicit_dependencies", "list"),
    ("MUTATES", "source_id", "one"),
    ("MUTATED_BY", "call_id", "one"),  # MutateNode
    ("SET_BY", "call_id", "one"),  # GlobalNode
    ("CONTROLLED_BY", "control_dependency", "one"),
    ("TESTS", "test_id", "one"),
    ("COMPANION", "companion_id", "one"),
    ("UNEXECUTED", "unexec_id", "one"),
]
DEPENDENCY_TYPES: list[str] = [rel for rel, _, _ in DEPENDENCIES]
_CALL_ID_REL = {NodeType.MutateNode: "MUTATED_BY", NodeType.GlobalNode: "SET_BY"}
_FIELD_OF = {rel: (field, shape) for rel, field, shape in DEPENDENCIES}


@functools.lru_cache(maxsize=None)
def _dependencies_of(cls: type) -> tuple[tuple[str, str, str], ...]:
    """The DEPENDENCIES a node class has fields for (asking pydantic for a class's
    ``model_fields`` per node cost a third of ``node_to_row``)."""
    fields = cls.model_fields
    node_type = fields["node_type"].default
    return tuple((rel, field, shape) for rel, field, shape in DEPENDENCIES
                 if field in fields and not (field == "call_id"
                                             and _CALL_ID_REL[node_type] != rel))


def _edges_for(node: BaseNode) -> Iterable[dict]:
    values = node.__dict__
    for rel, field, shape in _dependencies_of(type(node)):
        value = values[field]
        if value is None:
            continue
        if shape == "one":
            yield {"type": rel, "dst": value, "props": {}}
        elif shape == "positional":
            for index, arg in enumerate(value):
                yield {"type": rel, "dst": arg.id,
                       "props": {"index": index, "starred": arg.starred}}
        elif shape == "keyword":
            for index, arg in enumerate(value):
                yield {"type": rel, "dst": arg.value,
                       "props": {"name": arg.key, "starred": arg.starred, "index": index}}
        elif shape == "dict":
            for index, (name, dst) in enumerate(value.items()):
                yield {"type": rel, "dst": dst, "props": {"name": name, "index": index}}
        else:  # list
            for index, dst in enumerate(value):
                yield {"type": rel, "dst": dst, "props": {"index": index}}


# -- captions: what Neo4j Browser (and a person) shows for a node ------------------------
CAPTION_LENGTH = 60


def trim(text: str, length: int = CAPTION_LENGTH) -> str:
    """One line of at most ``length`` characters: whitespace runs become one space and a
    cut is marked with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


@functools.lru_cache(maxsize=64)
def _lines(code: str) -> list[str]:
    # one split per source text, not per node: a 20k-line script has 20k nodes
    return code.splitlines()


def source_text(code: str, position: dict) -> str | None:
    """The source a location spans (lines ``lineno..end_lineno``, columns as recorded)."""
    lines = _lines(code)
    first, last = position["lineno"], position["end_lineno"]
    if not (1 <= first <= last <= len(lines)):
        return None
    span = lines[first - 1:last]  # a new list: the cached one is never changed
    span[-1] = span[-1][:position["end_col_offset"]]
    span[0] = span[0][position["col_offset"]:]
    return "\n".join(span)


def node_caption(props: dict, position: dict | None = None, code: str | None = None) -> str:
    """A :Node's caption from its stored properties and, when located, its source: an
    import's name, a literal's value, a lookup's or global's name, else the statement's
    source text (a mutation and a branch say what they are)."""
    kind = props["node_type"]
    text = source_text(code, position) if code is not None and position else None
    if kind == "ImportNode":
        caption = props.get("name") or props.get("package_name") or "import"
    elif kind == "LiteralNode":
        caption = repr(decode_literal(props))
    elif kind in ("LookupNode", "GlobalNode"):
        caption = props["name"]
    elif kind == "MutateNode":  # no source of its own: see mutation_caption
        caption = f"mutated by {text}" if text else MUTATED
    elif kind == "ElseNode":
        caption = "else"
    elif kind == "IfNode":  # its location may be the test or the whole `if` statement
        caption = ("if" if not text else text if text.startswith(("if ", "elif "))
                   else f"if {text}")
    else:  # CallNode
        caption = text or "call"
    return trim(caption)


MUTATED = "mutated"


def mutation_caption(call_caption: str) -> str:
    """A MutateNode has no source text of its own; it is named by the call that mutated
    the value (its MUTATED_BY), once that call's caption is known."""
    return trim(f"{MUTATED} by {call_caption}")


def complete_captions(rows: dict[str, dict]) -> None:
    """Name the MutateNodes among ``rows`` (node_to_row results by id) by their call,
    when the call is among them too."""
    for row in rows.values():
        if row["label"] == "MutateNode" and row["props"]["caption"] == MUTATED:
            call = next((e["dst"] for e in row["edges"] if e["type"] == "MUTATED_BY"), None)
            if call in rows:
                row["props"]["caption"] = mutation_caption(rows[call]["props"]["caption"])


def _when(value: Any) -> str:
    value = to_python_datetime(value)
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime.datetime) else "?"


# The captions of the other labels, from their stored properties (also used to give an
# older store its captions, see lineagraph.schema).
OTHER_CAPTIONS: dict[str, Any] = {
    "Session": lambda p: trim(p.get("session_name") or
                              f"{p['environment_type'].lower()} session {_when(p.get('creation_time'))}"),
    "Execution": lambda p: f"execution {_when(p.get('timestamp'))}",
    "SourceCode": lambda p: trim(Path(p["path"]).name if p.get("path") is not None
                                 else f"cell [{p.get('jupyter_execution_count')}]"),
    "Artifact": lambda p: trim(f"{p['name']} v{p['version']}"),
    "NodeValue": lambda p: p.get("value_type") or "value",
}


def node_to_row(node: BaseNode) -> dict:
    """Parameters for writing one node: label, properties, location and edges."""
    props: dict[str, Any] = {"id": node.id, "session_id": node.session_id,
                             "node_type": node.node_type.name}
    if node.node_type is NodeType.ImportNode:
        props.update(name=node.name, version=node.version,
                     package_name=node.package_name, path=node.path)
    elif node.node_type is NodeType.LiteralNode:
        props.update(encode_literal(node.value))
    elif node.node_type in (NodeType.LookupNode, NodeType.GlobalNode):
        props["name"] = node.name
    location = None
    if node.source_location is not None:
        loc = node.source_location
        location = {
            "source_code_id": loc.source_code.id,
            "position": {"lineno": loc.lineno, "col_offset": loc.col_offset,
                         "end_lineno": loc.end_lineno, "end_col_offset": loc.end_col_offset},
        }
    props["caption"] = node_caption(
        props, location and location["position"],
        node.source_location.source_code.code if node.source_location else None)
    return {
        "id": node.id,
        "session_id": node.session_id,
        "label": NODE_LABELS[node.node_type],
        "props": {k: v for k, v in props.items() if v is not None},
        "location": location,
        "edges": list(_edges_for(node)),
    }


_NODE_TYPES = {t.name: t for t in NodeType}


def _node_data(node: dict, deps: list[list], location: list | None,
               codes: Mapping[str, SourceCode]) -> tuple[type, dict]:
    """The class of a stored node and the fields to validate it from (see
    :func:`records_to_nodes`). ``node_type`` is left to the class's own default (each
    class has one type), which spares its before-validator; the location goes in as a
    dict, validated with the node."""
    node_type = _NODE_TYPES[node["node_type"]]
    data: dict[str, Any] = {"id": node["id"], "session_id": node["session_id"]}
    if node_type is NodeType.ImportNode:
        for key in ("name", "version", "package_name", "path"):
            data[key] = node.get(key)
    elif node_type is NodeType.LiteralNode:
        data["value"] = decode_literal(node)
    elif node_type is NodeType.LookupNode or node_type is NodeType.GlobalNode:
        data["name"] = node["name"]
    if deps:
        grouped: dict[str, list[list]] = {}
        for dep in deps:
            grouped.setdefault(dep[0], []).append(dep)
        for rel, found in grouped.items():
            field, shape = _FIELD_OF[rel]
            if len(found) > 1:
                found.sort(key=lambda d: d[1].get("index", 0))
            if shape == "one":
                data[field] = found[0][2]
            elif shape == "positional":
                data[field] = [{"id": d[2], "starred": d[1]["starred"]} for d in found]
            elif shape == "keyword":
                data[field] = [{"key": d[1]["name"], "value": d[2],
                                "starred": d[1]["starred"]} for d in found]
            elif shape == "dict":
                data[field] = {d[1]["name"]: d[2] for d in found}
            else:
                data[field] = [d[2] for d in found]
    if location is not None:
        data["source_location"] = dict(location[0], source_code=codes[location[1]])
    return NODE_CLASSES[node_type], data


@functools.lru_cache(maxsize=None)
def _list_adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(list[cls])  # type: ignore[valid-type]


def records_to_nodes(records: Iterable[tuple[dict, list[list], list | None]],
                     codes: Mapping[str, SourceCode]) -> list[BaseNode]:
    """The models of stored nodes, in order, from their records as read.cypher returns
    them: properties, dependency edges (each ``[type, properties, dst id]``) and
    location (``[LOCATED_IN properties, source code id]`` or None, the code found in
    ``codes``). One validation per node, the nodes of each class validated together
    (one ``TypeAdapter(list[cls])`` call per class: half the time of a
    ``model_validate`` per node at 100,000 nodes)."""
    classes: list[type] = []
    by_class: dict[type, list[dict]] = {}
    for node, deps, location in records:
        cls, data = _node_data(node, deps, location, codes)
        classes.append(cls)
        by_class.setdefault(cls, []).append(data)
    built = {cls: iter(_list_adapter(cls).validate_python(datas))
             for cls, datas in by_class.items()}
    return [next(built[cls]) for cls in classes]


# -- sessions, source code, executions, artifacts, values --------------------------------
def check_datetimes(model: Any, *fields: str) -> None:
    """Neo4j keeps naive datetimes as LocalDateTime and aware ones as DateTime, whose UTC
    offset must be a whole number of minutes within +-18 hours; refuse others before
    anything is sent."""
    for name in fields:
        value = getattr(model, name, None)
        if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            offset = value.utcoffset()
            if offset.seconds % 60 or offset.microseconds or abs(offset) > _MAX_OFFSET:
                raise ValueError(
                    f"{type(model).__name__}.{name} = {value.isoformat()} has a UTC offset "
                    f"of {offset}, which Neo4j cannot store (whole minutes within +-18 "
                    "hours only); convert it to UTC first"
                )


_MAX_OFFSET = datetime.timedelta(hours=18)


def to_neo4j_datetime(value: Any) -> Any:
    """Aware datetimes go to Neo4j with a fixed offset: same instant, same offset, but no
    zoneinfo object (the driver crashes on some, CPython issue 125318)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone(value.utcoffset()))
    return value


def check_text(what: str, values: Iterable[Any]) -> None:
    """Neo4j stores UTF-8: refuse strings Python allows but UTF-8 cannot encode
    (lone surrogates), naming where they were."""
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                raise ValueError(
                    f"{what} contains {value[err.start:err.end]!r} at position {err.start}, "
                    "a lone surrogate that cannot be stored as UTF-8"
                ) from None
        elif isinstance(value, dict):
            check_text(what, value.keys())
            check_text(what, value.values())
        elif isinstance(value, (list, tuple)):
            check_text(what, value)


# Neo4j's range indexes hold keys of up to about 8 KB; ids and names that are looked up
# by index (node, session, execution and source code ids, artifact and import names)
# are kept well below that so a write never fails half way on the server.
MAX_KEY_BYTES = 4096


def brief(value: Any, size: int = 60) -> str:
    """``repr`` of a value for a message: one line, at most ``size`` characters, and the
    length of a long string."""
    text = trim(repr(value), size)
    if isinstance(value, str) and len(value) > size:
        text += f" ({len(value):,} characters)"
    return text


def check_keys(what: str, **keys: Any) -> None:
    """Refuse indexed ids and names that are not strings or are too long to index."""
    for field_name, value in keys.items():
        if not isinstance(value, str):
            raise TypeError(f"{what}: {field_name} must be a string, not "
                            f"{type(value).__name__} {brief(value)}")
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_KEY_BYTES:
            raise ValueError(
                f"{what}: {field_name} is {size:,} bytes long; ids and names are indexed "
                f"and limited to {MAX_KEY_BYTES:,} bytes (UTF-8)"
            )


def to_python_datetime(value: Any) -> Any:
    if isinstance(value, Neo4jDateTime):
        return value.to_native()
    return value


def source_code_to_props(code: SourceCode) -> dict:
    props: dict[str, Any] = {"id": code.id, "code": code.code}
    if isinstance(code.location, JupyterCell):
        props["jupyter_execution_count"] = code.location.execution_count
        props["jupyter_session_id"] = code.location.session_id
    else:
        props["path"] = str(code.location)
    props["caption"] = OTHER_CAPTIONS["SourceCode"](props)
    return props


def source_code_from_props(props: dict) -> SourceCode:
    if props.get("path") is not None:
        location: Path | JupyterCell = Path(props["path"])
    else:
        location = JupyterCell(execution_count=props["jupyter_execution_count"],
                               session_id=props["jupyter_session_id"])
    return SourceCode(id=props["id"], code=props["code"], location=location)


def session_to_props(context: SessionContext) -> dict:
    props = context.model_dump()
    props["environment_type"] = context.environment_type.name
    props["caption"] = OTHER_CAPTIONS["Session"](props)
    return {k: to_neo4j_datetime(v) for k, v in props.items() if v is not None}


def session_from_props(props: dict) -> SessionContext:
    # the node may carry bookkeeping of ours (e.g. the importer's); take the model's fields
    data = {k: to_python_datetime(v) for k, v in props.items()
            if k in SessionContext.model_fields}
    data["environment_type"] = SessionType[data["environment_type"]]
    return SessionContext.model_validate(data)


def execution_to_props(execution: Execution) -> dict:
    props = execution.model_dump()
    props["caption"] = OTHER_CAPTIONS["Execution"](props)
    return {k: to_neo4j_datetime(v) for k, v in props.items() if v is not None}


def execution_from_props(props: dict) -> Execution:
    return Execution(id=props["id"], timestamp=to_python_datetime(props.get("timestamp")))


def artifact_to_props(artifact: Artifact) -> dict:
    props = artifact.model_dump()
    props["caption"] = OTHER_CAPTIONS["Artifact"](props)
    return {k: to_neo4j_datetime(v) for k, v in props.items()}


def artifact_from_props(props: dict) -> Artifact:
    return Artifact(
        node_id=props["node_id"], execution_id=props["execution_id"], name=props["name"],
        version=props["version"], date_created=to_python_datetime(props["date_created"]),
    )


def node_value_to_props(value: NodeValue) -> dict:
    props = value.model_dump()
    props["value_type"] = value.value_type.value if value.value_type else None
    props["caption"] = OTHER_CAPTIONS["NodeValue"](props)
    return {k: to_neo4j_datetime(v) for k, v in props.items() if v is not None}


def node_value_from_props(props: dict) -> NodeValue:
    return NodeValue(
        node_id=props["node_id"], execution_id=props["execution_id"], value=props["value"],
        value_type=props.get("value_type"),
        start_time=to_python_datetime(props.get("start_time")),
        end_time=to_python_datetime(props.get("end_time")),
    )

