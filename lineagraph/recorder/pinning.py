"""Slices that read other artifacts keep reading the versions they read.

A recorded ``get(name)`` without a version read the latest version *then*; re-run
later, it would read a newer one. The recorder links each ``get`` call to the node of
the artifact it read and to a LiteralNode holding the version; here each such call in a
slice's code gets ``version=N`` added, so the slice recomputes what was recorded.
"""

from __future__ import annotations

from ..models import CallNode, LiteralNode


def pin_gets(db, code_slice) -> str:
    nodes = db.get_nodes_by_ids(sorted(code_slice.node_ids))
    versions: dict[tuple[int, int], int] = {}
    for node in nodes:
        if not isinstance(node, CallNode) or node.source_location is None:
            continue
        if node.keyword_args or len(node.positional_args) != 1:
            continue
        literals = [n for n in db.get_nodes_by_ids(node.implicit_dependencies)
                    if isinstance(n, LiteralNode) and type(n.value) is int]
        if literals:
            loc = node.source_location
            if loc.lineno == loc.end_lineno:
                versions[(loc.lineno, loc.end_col_offset)] = literals[-1].value
    if not versions:
        return str(code_slice)
    located = next(n for n in nodes if n.source_location is not None)
    source = located.source_location.source_code.code.split("\n")
    patched = {}
    for (lineno, end), version in versions.items():
        line = patched.get(lineno, source[lineno - 1])
        if 0 < end <= len(line) and line[end - 1] == ")":
            patched[lineno] = line[:end - 1] + f", version={version})" + line[end:]
    lines = [patched.get(_find(source, text), text) if text in source else text
             for text in code_slice.body_lines]
    code_slice.body_lines = lines
    return str(code_slice)


def _find(source: list[str], text: str) -> int:
    return source.index(text) + 1
