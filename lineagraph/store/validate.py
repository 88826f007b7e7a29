"""What the store refuses before anything is sent to Neo4j, one function per model.

``write_*`` and ``write_session`` run these (a :class:`SessionGraph` runs them once,
when it is checked, and keeps the node rows they built); nothing else validates
lineage data for the store.
"""

from __future__ import annotations

import unicodedata

from ..mapping import (
    MAX_KEY_BYTES,
    NODE_LABELS,
    artifact_to_props,
    brief,
    check_datetimes,
    check_keys,
    check_text,
    node_to_row,
    session_to_props,
    source_code_to_props,
)
from ..models import (Artifact, BaseNode, Execution, ImportNode, LineaID, NodeValue,
                      SessionContext, SourceCode)
from .version import parse_artifact_version


def check_context(context: SessionContext) -> None:
    check_keys(f"session {brief(context.id)}", id=context.id,
               execution_id=context.execution_id)
    check_datetimes(context, "creation_time")
    check_text(f"session {context.id!r}", [session_to_props(context)])


def check_execution(execution: Execution) -> None:
    check_keys(f"execution {brief(execution.id)}", id=execution.id)
    check_datetimes(execution, "timestamp")


def check_source_code(source_code: SourceCode) -> None:
    check_keys(f"source code {brief(source_code.id)}", id=source_code.id)
    check_text(f"source code {source_code.id!r}", [source_code_to_props(source_code)])


def check_node(node: BaseNode) -> dict:
    """Refuse a node Neo4j could not store; return its row (``mapping.node_to_row``)."""
    if getattr(node, "node_type", None) not in NODE_LABELS:
        raise TypeError(f"not a lineage node: {brief(node, 200)}")
    check_keys(f"node {brief(node.id)}", id=node.id, session_id=node.session_id,
               **({"name": node.name} if isinstance(node, ImportNode) else {}))
    row = node_to_row(node)
    check_text(f"node {node.id!r}", [row])
    return row


def check_nodes(nodes: list[BaseNode]) -> list[dict]:
    """``check_node`` for many nodes at once, returning their rows: the same refusals with
    the same messages, but the text of all rows is checked in one pass (see
    :func:`_text_ok`) and walked node by node only to name an offender."""
    rows = []
    for node in nodes:
        if getattr(node, "node_type", None) not in NODE_LABELS:
            raise TypeError(f"not a lineage node: {brief(node, 200)}")
        node_id, session_id = node.id, node.session_id
        # ids as every recorder and importer makes them pass at once; anything else
        # gets check_keys and its message (built per node, it was a fifth of this loop)
        if not (type(node_id) is str and type(session_id) is str and len(node_id) <= _SHORT
                and len(session_id) <= _SHORT and not isinstance(node, ImportNode)):
            check_keys(f"node {brief(node_id)}", id=node_id, session_id=session_id,
                       **({"name": node.name} if isinstance(node, ImportNode) else {}))
        rows.append(node_to_row(node))
    if not _text_ok(rows):
        for row in rows:
            check_text(f"node {row['id']!r}", [row])
    return rows


# a string of this many characters is at most MAX_KEY_BYTES long in UTF-8
_SHORT = MAX_KEY_BYTES // 4


def _text_ok(rows: list[dict]) -> bool:
    """True when no string of these node rows holds a lone surrogate, which is what
    ``check_text`` refuses: their strings are joined and encoded once, which fails
    exactly then. The rows' strings are their properties (ids included), their edges'
    ends and properties, and their location's code id; their keys, labels and edge
    types are lineagraph's own. Walking the rows with ``check_text`` cost more than
    writing them (0.35 s for 10,000 recorded nodes), JSON text of them a tenth of that.
    False, for the slow walk to decide, on a value of another shape."""
    strings: list[str] = []
    add = strings.append
    try:
        for row in rows:
            for value in row["props"].values():
                if isinstance(value, str):
                    add(value)
                elif isinstance(value, (list, tuple)):
                    strings.extend(v for v in value if isinstance(v, str))
                elif isinstance(value, dict):
                    return False
            for edge in row["edges"]:
                add(edge["dst"])
                for value in edge["props"].values():
                    if isinstance(value, str):
                        add(value)
                    elif isinstance(value, (list, tuple, dict)):
                        return False
            location = row["location"]
            if location is not None:
                add(location["source_code_id"])
        "".join(strings).encode("utf-8")
    except (UnicodeEncodeError, TypeError, KeyError, AttributeError):
        return False
    return True


def check_variable(node_id: LineaID, variable_name: str) -> None:
    check_keys("assigned variable", node_id=node_id)
    if not isinstance(variable_name, str):
        raise TypeError(f"variable name of node {brief(node_id)} must be a string, not "
                        f"{type(variable_name).__name__}")
    check_text(f"variable of node {node_id!r}", [node_id, variable_name])


def check_node_value(node_value: NodeValue) -> None:
    check_keys("node value", node_id=node_value.node_id,
               execution_id=node_value.execution_id)
    check_datetimes(node_value, "start_time", "end_time")


def check_artifact_name(name: object) -> None:
    """What ``save_artifact`` refuses as the name of a new artifact: not a string, empty
    or only spaces, a control character (a newline, a tab: the name is shown in one
    line, and typed to ``lineagraph slice``), longer than an index key, or a string
    UTF-8 cannot hold. (Names LineaPy stored are imported as they are.)"""
    if not isinstance(name, str):
        raise TypeError(f"an artifact name is a string, not {type(name).__name__}")
    if not name.strip():
        raise ValueError("an artifact name must not be empty"
                         + (f" or only spaces ({name!r})" if name else ""))
    # control characters and line or paragraph separators (what splitlines splits at)
    control = next((c for c in name if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if control is not None:
        raise ValueError(f"artifact name {brief(name)} contains the control character "
                         f"{control!r}; a name is one line of printable text")
    check_keys(f"artifact name {brief(name)}", name=name)
    check_text(f"artifact name {brief(name)}", [name])


def check_artifact(artifact: Artifact, version: bool = True) -> None:
    """``version=False`` for save_artifact, which chooses the version itself."""
    check_keys("artifact", name=artifact.name, node_id=artifact.node_id,
               execution_id=artifact.execution_id)
    if version:
        parse_artifact_version(artifact.version)  # 0 to 2**63 - 1
    check_datetimes(artifact, "date_created")
    check_text(f"artifact {artifact.name!r}", [artifact_to_props(artifact)])
