"""Slices that read other artifacts keep reading the versions they read.

A recorded ``get(name)`` without a version read the latest version *then*; re-run
later, it would read a newer one. The recorder links each ``get`` call to the node of
the artifact it read and to a LiteralNode holding the version; here each such call in a
slice's code gets ``version=N`` added, so the slice recomputes what was recorded.
"""

from __future__ import annotations

from ..models import CallNode, LiteralNode


def pin_gets(db, code_slice) -> str:
    """The slice's code with ``version=N`` added to each recorded ``get`` in it; the
    slice's ``body_lines`` (and ``groups``) are patched in place."""
    nodes = db.get_nodes_by_ids(sorted(code_slice.node_ids))
    # (source code, line) -> [(end column of the call, version)]
    calls: dict[tuple[str, int], list[tuple[int, int]]] = {}
    codes: dict[str, object] = {}
    for node in nodes:
        if not isinstance(node, CallNode) or node.source_location is None:
            continue
        if node.keyword_args or len(node.positional_args) != 1:
            continue
        literals = [n for n in db.get_nodes_by_ids(node.implicit_dependencies)
                    if isinstance(n, LiteralNode) and type(n.value) is int]
        loc = node.source_location
        if literals and loc.lineno == loc.end_lineno:
            codes[loc.source_code.id] = loc.source_code
            calls.setdefault((loc.source_code.id, loc.lineno), []).append(
                (loc.end_col_offset, literals[-1].value))
    if not calls:
        return str(code_slice)
    edits = []  # (where in the program, line as written, line pinned)
    for (code_id, lineno), found in calls.items():
        code = codes[code_id]
        line = patched = code.code.split("\n")[lineno - 1]
        for end, version in sorted(found, reverse=True):  # right to left: columns hold
            if 0 < end <= len(patched) and patched[end - 1] == ")":
                patched = patched[:end - 1] + f", version={version})" + patched[end:]
        order = getattr(code.location, "execution_count", 0)
        edits.append(((order, lineno), line, patched))
    lines = list(code_slice.body_lines)
    at = 0
    for _, line, patched in sorted(edits, key=lambda e: e[0]):
        # the slice keeps the program's order: look after the last edit, then anywhere
        for index in [*range(at, len(lines)), *range(0, at)]:
            if lines[index] == line:
                lines[index] = patched
                at = index + 1
                break
    sizes = [len(g) for g in code_slice.groups]
    code_slice.body_lines = lines
    if sum(sizes) == len(lines):
        code_slice.groups, start = [], 0
        for size in sizes:
            code_slice.groups.append(lines[start:start + size])
            start += size
    return str(code_slice)
