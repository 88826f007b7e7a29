"""Program slicing with LineaPy 0.2.3's meaning, the graph walks running in Neo4j.

``get_program_slice(db, artifacts=[...])`` gives the code needed to recompute some
artifacts (or nodes), as LineaPy's ``lineapy.graph_reader.program_slice.
get_program_slice(graph, sinks, keep_lineapy_save)`` does on the session graph:

1. **Sinks**: the artifacts' nodes, plus every ``IfNode``/``ElseNode`` of the session
   that holds an unexecuted branch. With ``keep_lineapy_save=True`` a sink that is the
   first positional argument of a call on a line containing ``lineapy.save`` is
   replaced by that call (the last such call in execution order, as LineaPy keeps the
   last child it sees), so the save line and ``import lineapy`` stay.
2. **Ancestors** of the sinks: every node reachable through the dependencies of
   ``parents()`` (function, arguments, global reads, implicit dependencies, mutation
   source and call, global call, control dependency, if/else test, companion and
   unexecuted code), inside the session.
3. **Same-line closure**: a node of the session (not an import) located on a line of an
   included node (any line from its ``lineno`` to its ``end_lineno``, in the same source
   code) comes in with its ancestors; repeated until nothing changes.
4. **Code**: every line of every included node, per source code (Jupyter cells in
   execution order, lines sorted); lines of import nodes go to ``import_lines``, first;
   a located control-flow node with no dependent in the slice (its companion aside) and
   no unexecuted branch gets a ``pass`` after its last line, indented one space deeper.

Steps 1-3 run as named Cypher of ``cypher/slicing/slice.cypher``: variable-length
patterns ending in ``DISTINCT``, which Neo4j runs as a pruning breadth-first expansion
(each node expanded once, however many paths lead to it), and a search of the lines by
source code and line range (through the relationship index on ``LOCATED_IN(lineno)``
for code with many nodes, when it exists: see :func:`ensure_slicing_index`). Only the
slice's nodes, their positions and the text of their source code come back to Python;
the session is never loaded whole.

Differences from LineaPy, on purpose: LineaPy formats ``str(CodeSlice)`` with black
and isort; ``str()`` here sorts the import block with isort (so the code is LineaPy's,
``ast.dump`` for ``ast.dump``) but keeps the recorded layout otherwise; ``.raw`` is the
code exactly as recorded.
``show_left_out`` is ours: it shows the other lines of the source code in the slice
(cells without any line in the slice are not shown). LineaPy raises ``IndexError`` in
``keep_lineapy_save`` when a sink feeds a call with no positional argument; we skip
such calls. LineaPy appends the control-flow sinks to the caller's list; we do not
touch the caller's arguments.
Sinks of several sessions are sliced per session and the slices put one after the
other (sessions by creation time); LineaPy slices one session graph at a time.

Only committed data is sliced: writes still pending in ``db`` (before ``commit()``) are
not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from .errors import NotFoundError
from .store.version import ArtifactRef, parse_artifact_ref

if TYPE_CHECKING:  # pragma: no cover
    from .store import GraphLineaDB

__all__ = ["CodeSlice", "get_program_slice", "ensure_slicing_index",
           "ArtifactRef", "SMALL_SOURCE_CODE"]

# Source code with at most this many located nodes is searched by walking its
# LOCATED_IN relationships; bigger code through the LOCATED_IN(lineno) index when it
# is online (create it with ensure_slicing_index).
SMALL_SOURCE_CODE = 2000
# The calls whose line keep_lineapy_save keeps: LineaPy's, and a recording's own.
SAVE_CALLS = ("lineapy.save", "lineagraph.save")

_IMPORT = "ImportNode"
_CONTROL_FLOW = ("IfNode", "ElseNode")


@dataclass
class CodeSlice:
    """The code of a slice: ``import_lines`` first, then ``body_lines``; ``node_ids`` is
    the set of graph nodes behind it. ``str()`` gives the code with its import block
    sorted by isort, as LineaPy printed slices; ``raw`` gives it in recorded order."""

    import_lines: list[str]
    body_lines: list[str]
    node_ids: frozenset[str] = field(default_factory=frozenset)
    sort_imports: bool = True
    # body_lines grouped by the source code they come from (a notebook's cells, in
    # execution order; a script is one group)
    groups: list[list[str]] = field(default_factory=list)

    def notebook(self):
        """The slice as a notebook (nbformat 4): the imports in a first cell, then one
        cell per source cell that contributes (``lineagraph slice --notebook``)."""
        try:
            from nbformat.v4 import new_code_cell, new_notebook
        except ImportError:
            raise ImportError("a slice as a notebook needs nbformat: "
                              "pip install 'lineagraph[notebook]'") from None
        cells = []
        imports = str(CodeSlice(self.import_lines, [], sort_imports=self.sort_imports))
        if self.import_lines:
            cells.append(new_code_cell(imports.rstrip("\n")))
        for group in self.groups or [self.body_lines]:
            if group:
                cells.append(new_code_cell("\n".join(group)))
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        return nb

    def notebook_text(self) -> str:
        """:meth:`notebook` as the JSON text of an ``.ipynb`` file."""
        import nbformat

        return nbformat.writes(self.notebook())

    @property
    def raw(self) -> str:
        return "\n".join(self.import_lines + self.body_lines) + "\n"

    def __str__(self) -> str:
        if not self.sort_imports:
            return self.raw
        import isort

        return isort.code(self.raw, profile="black")


# -- source code --------------------------------------------------------------------------
# slicing's entries in GraphLineaDB's read cache
_CACHE_KIND = "slicing.code"


@dataclass(frozen=True)
class _Code:
    """One stored source code, with what slicing needs of it."""

    id: str
    lines: tuple[str, ...]          # code.split("\n"), as LineaPy splits it
    order: tuple                    # sort key: a script, else cells by execution count
    located: int                    # how many nodes are located in it
    max_span: int                   # the most lines a node spans beyond its first

    def line(self, lineno: int) -> str:
        # LineaPy indexes source_code.split("\n")[lineno - 1]
        return self.lines[lineno - 1]

    def lowest_start(self, first: int) -> int:
        """No node located on line ``first`` or after it starts before this line."""
        return max(1, first - self.max_span)


def _source_codes(db: "GraphLineaDB", ids: Iterable[str]) -> dict[str, _Code]:
    """The source code of these ids; from the read cache of this GraphLineaDB (source
    code never changes once written) when its count of located nodes has not changed
    (nodes located later may span more lines)."""
    wanted = {code_id: db.cache.get(_CACHE_KIND, code_id) for code_id in set(ids)}
    held = sorted(code_id for code_id, code in wanted.items() if code is not None)
    if held:
        sizes = {r["id"]: r["located"]
                 for r in db.read_all("slicing.source_code_sizes", ids=held)}
        for code_id in held:
            if sizes.get(code_id) != wanted[code_id].located:
                wanted[code_id] = None
    missing = sorted(code_id for code_id, code in wanted.items() if code is None)
    found = {code_id: code for code_id, code in wanted.items() if code is not None}
    if missing:
        for row in db.read_all("slicing.source_codes", ids=missing):
            count = row["jupyter_execution_count"]
            order = (0, row["path"] or "", 0) if count is None else (1, "", count)
            code = _Code(id=row["id"], lines=tuple((row["code"] or "").split("\n")),
                         order=order, located=row["located"], max_span=row["max_span"])
            db.cache.put(_CACHE_KIND, code.id, code)
            found[code.id] = code
    return found


# -- the slice of one session -------------------------------------------------------------
@dataclass
class _Node:
    id: str
    node_type: str
    code_id: Optional[str] = None
    lineno: int = 0
    end_lineno: int = 0

    @classmethod
    def from_row(cls, row: dict) -> "_Node":
        loc = row["location"]
        if loc is None or loc["lineno"] is None:
            return cls(row["id"], row["node_type"])
        end = loc["end_lineno"] if loc["end_lineno"] is not None else loc["lineno"]
        return cls(row["id"], row["node_type"], loc["code_id"], loc["lineno"], end)

    def lines(self) -> range:
        return range(self.lineno, self.end_lineno + 1) if self.code_id else range(0)


def _runs(lines: Iterable[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive line numbers."""
    runs: list[tuple[int, int]] = []
    for line in sorted(set(lines)):
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs


def _index_ready(db: "GraphLineaDB") -> bool:
    return bool(db.read_value("slicing.located_in_index_ready"))


def _save_sinks(db: "GraphLineaDB", session_id: str, sinks: list[str]) -> list[str]:
    """LineaPy's keep_lineapy_save: each sink that is the first positional argument of
    a located call whose first line contains ``lineapy.save`` (or ``lineagraph.save``, a
    recording's own) becomes that call."""
    rows = db.read_all("slicing.save_calls", ids=sinks, session_id=session_id)
    codes = _source_codes(db, {r["code_id"] for r in rows})
    replace: dict[str, str] = {}
    # LineaPy keeps the last matching child in its node order (the order nodes were
    # recorded: execution order); position in the code is that order here.
    rows.sort(key=lambda r: (codes[r["code_id"]].order, r["lineno"], r["col_offset"] or 0,
                             r["id"]))
    for row in rows:
        code = codes[row["code_id"]]
        if not 1 <= row["lineno"] <= len(code.lines):
            continue
        if any(call in code.line(row["lineno"]) for call in SAVE_CALLS):
            replace[row["sink"]] = row["id"]
    return [replace.get(sink, sink) for sink in sinks]


def _slice_session(db: "GraphLineaDB", session_id: str, sinks: list[str],
                   keep_lineapy_save: bool) -> tuple[dict[str, _Node], dict[str, _Code]]:
    """The node set of the slice (LineaPy's get_slice_graph) and the code it lies in."""
    sinks = list(sinks)
    for row in db.read_all("slicing.unexecuted_branches", session_id=session_id):
        sinks.append(row["id"])
    sinks = list(dict.fromkeys(sinks))
    if keep_lineapy_save:
        sinks = list(dict.fromkeys(_save_sinks(db, session_id, sinks)))

    nodes: dict[str, _Node] = {}

    def add(rows: list[dict]) -> list[_Node]:
        new = []
        for row in rows:
            if row["id"] not in nodes:
                node = _Node.from_row(row)
                nodes[node.id] = node
                new.append(node)
        return new

    new = add(db.read_all("slicing.ancestors", ids=sinks, session_id=session_id, known=[]))
    searched: dict[str, set[int]] = {}
    codes: dict[str, _Code] = {}
    indexed: Optional[bool] = None
    while new:
        # Lines of the slice not searched yet, per source code.
        todo: dict[str, set[int]] = {}
        for node in new:
            if node.code_id:
                fresh = set(node.lines()) - searched.setdefault(node.code_id, set())
                if fresh:
                    todo.setdefault(node.code_id, set()).update(fresh)
        if not todo:
            break
        codes.update(_source_codes(db, set(todo) - set(codes)))
        small, large = [], []
        for code_id, lines in todo.items():
            searched[code_id] |= lines
            code = codes.get(code_id)
            big = code is not None and code.located > SMALL_SOURCE_CODE
            for first, last in _runs(lines):
                lo = code.lowest_start(first) if code is not None else 1
                entry = {"code_id": code_id, "lo": lo, "first": first, "hi": last}
                (large if big else small).append(entry)
        if large:
            if indexed is None:
                indexed = _index_ready(db)
            if not indexed:
                small += large
                large = []
        known = sorted(nodes)
        new = []
        if small:
            new += add(db.read_all("slicing.same_line_step", ranges=small,
                                session_id=session_id, known=known))
        if large:
            new += add(db.read_all("slicing.same_line_step_indexed", ranges=large,
                                session_id=session_id, known=known))
    codes.update(_source_codes(db, {n.code_id for n in nodes.values() if n.code_id}
                               - set(codes)))
    return nodes, codes


def _code_of(nodes: dict[str, _Node], codes: dict[str, _Code], db: "GraphLineaDB",
             show_left_out: bool) -> tuple[list[str], list[str], list[list[str]]]:
    """LineaPy's get_source_code_from_graph on the slice's nodes: import lines, body
    lines, and the body lines grouped by source code."""
    body: dict[str, set[int]] = {}
    imports: dict[str, set[int]] = {}
    control = [n for n in nodes.values() if n.node_type in _CONTROL_FLOW and n.code_id]
    incomplete: dict[str, set[int]] = {}
    if control:
        rows = db.read_all("slicing.control_flow_children", ids=[n.id for n in control],
                        slice=sorted(nodes))
        for row in rows:
            if row["children"] == 0 and not row["unexecuted"]:
                node = nodes[row["id"]]
                incomplete.setdefault(node.code_id, set()).add(node.end_lineno)
    for node in nodes.values():
        if not node.code_id:
            continue
        target = imports if node.node_type == _IMPORT else body
        target.setdefault(node.code_id, set()).update(node.lines())

    def ordered(per_code: dict[str, set[int]]) -> list[tuple[_Code, set[int]]]:
        return sorted(((codes[c], lines) for c, lines in per_code.items()),
                      key=lambda pair: (pair[0].order, pair[0].id))

    groups: list[list[str]] = []  # the lines of each source code, in order
    for code, lines in ordered(body):
        out: list[str] = []
        groups.append(out)
        pass_after = incomplete.get(code.id, set())
        if show_left_out:
            moved = imports.get(code.id, set()) - lines
            count = len(code.lines)
            if count > 1 and code.lines[-1] == "":  # after the final newline
                count -= 1
            shown = range(1, count + 1)
        else:
            moved, shown = set(), sorted(lines)
        for line in shown:
            text = code.line(line)
            if line in lines:
                out.append(text)
                if line in pass_after:
                    indent = len(text) - len(text.lstrip())
                    out.append(" " * (indent + 1) + "pass")
            elif line not in moved:
                out.append(_as_comment(text))
    import_lines = [code.line(line) for code, lines in ordered(imports)
                    for line in sorted(lines)]
    return import_lines, [line for group in groups for line in group], groups


def _as_comment(text: str) -> str:
    stripped = text.lstrip()
    if not stripped or stripped.startswith("#"):
        return text.rstrip()
    return text[: len(text) - len(stripped)] + "# " + stripped


# -- the API --------------------------------------------------------------------------------
def _resolve_artifacts(db: "GraphLineaDB", artifacts: Sequence[ArtifactRef]) -> list[str]:
    return [db.get_artifact_by_name(*parse_artifact_ref(ref)).node_id for ref in artifacts]


def get_program_slice(
    db: "GraphLineaDB",
    artifacts: Optional[Sequence[ArtifactRef]] = None,
    node_ids: Optional[Sequence[str]] = None,
    keep_lineapy_save: bool = False,
    show_left_out: bool = False,
    sort_imports: bool = True,
) -> CodeSlice:
    """The code needed to compute ``artifacts`` (names, or ``(name, version)`` pairs with
    ``None`` for the latest) and ``node_ids``, with LineaPy 0.2.3's meaning.

    ``keep_lineapy_save`` keeps the ``lineapy.save(...)`` calls of the artifacts (LineaPy
    drops them by default). ``show_left_out`` also shows the lines of the same source
    code that are not in the slice, as comments where they stood (import lines, moved to
    the top, are not repeated); the code means the same. ``sort_imports`` sorts the
    leading import block as LineaPy's isort pass did (``CodeSlice.raw`` never does).
    """
    sinks = _resolve_artifacts(db, artifacts or [])
    sinks += [str(i) for i in node_ids or []]
    sinks = list(dict.fromkeys(sinks))
    if not sinks:
        raise ValueError("get_program_slice needs at least one artifact or node id")
    rows = {r["id"]: r["session_id"] for r in db.read_all("slicing.sink_sessions", ids=sinks)}
    missing = [s for s in sinks if s not in rows]
    if missing:
        raise NotFoundError(f"node(s) {', '.join(map(repr, missing))} not found "
                            "(nothing to slice; pending writes are not sliced, commit first)")
    by_session: dict[str, list[str]] = {}
    for sink in sinks:
        by_session.setdefault(rows[sink], []).append(sink)
    sessions = list(by_session)
    if len(sessions) > 1:
        contexts = {sid: db.get_session_context(sid) for sid in sessions}
        sessions.sort(key=lambda sid: (contexts[sid].creation_time.timestamp(), sid))
    import_lines: list[str] = []
    body_lines: list[str] = []
    groups: list[list[str]] = []
    node_set: set[str] = set()
    for session_id in sessions:
        nodes, codes = _slice_session(db, session_id, by_session[session_id],
                                      keep_lineapy_save)
        imports, body, per_code = _code_of(nodes, codes, db, show_left_out)
        import_lines += imports
        body_lines += body
        groups += [g for g in per_code if g]
        node_set |= set(nodes)
    return CodeSlice(import_lines, body_lines, frozenset(node_set), sort_imports, groups)


def ensure_slicing_index(db: "GraphLineaDB") -> None:
    """Create the LOCATED_IN(lineno) relationship index that makes the same-line search
    in long scripts follow the slice rather than the script (idempotent)."""
    db.ensure_schema()  # the index is part of cypher/schema
