"""Property tests of GraphLineaDB: random valid LineaPy session graphs survive a round
trip through Neo4j exactly, whether they are committed at once or in two parts.

Hypothesis draws a *plan* (plain data whose node references are indices); ``build``
turns a plan into models under an id prefix unique to the example, so examples share
the test's graph without colliding and no per-example wipe is needed.

Graphs are valid the way LineaPy makes them: every reference points at a node drawn
earlier in the same session, except that an ``IfNode`` and its ``ElseNode`` name each
other as companions. Comparisons are by id, never by order, and strict: ``True`` is not
``1``, ``-0.0`` is not ``0.0``, a datetime keeps its UTC offset.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lineagraph import GraphLineaDB
from lineagraph.models import (
    BaseNode,
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    JupyterCell,
    LiteralNode,
    LookupNode,
    MutateNode,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MAX_NODES = 40


# -- plans: graphs as plain data, references by index -----------------------------------


@dataclass(frozen=True)
class Ref:
    """A reference to the plan's node number ``index``."""

    index: int


@dataclass(frozen=True)
class Loc:
    """A source location inside the plan's source code number ``code``."""

    code: int
    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


@dataclass
class Plan:
    jupyter: bool
    id_suffix: str  # appended to every id, so ids carry unicode and quotes too
    session: dict  # SessionContext fields other than the ids and the environment type
    execution_time: datetime.datetime | None
    codes: list[tuple[str, Any]]  # (code, Path for a script | execution count of a cell)
    nodes: list[tuple[type, dict]]  # (model class, fields with Ref/Loc placeholders)
    split: int  # nodes[:split] may be committed before nodes[split:]
    codes_in_second_commit: bool


@dataclass
class Graph:
    prefix: str
    execution: Execution
    context: SessionContext
    codes: list[SourceCode]
    nodes: list[BaseNode]


# -- strategies ----------------------------------------------------------------------------

# Text that stresses the store: quotes, backslashes, Cypher syntax, unicode, NUL.
SPECIAL_TEXT = ["", "'", '"', "`", "\\", "a'b\"c", "$x", "{name}", "n:Node", "ü",
                "日本語", "🐍", "\x00", "\u200b", "Ω≈ç", "x y", "-- //"]
texts = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(max_size=12))
optional_texts = st.none() | texts

literal_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(SPECIAL_TEXT),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past Neo4j's 64-bit integers
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**400, -(2**10_000),
                     2**10_000 + 1, -(2**12_345) - 7]),  # the last two are stored as hex
    st.floats(allow_nan=False),  # nan != nan; inf, -inf and -0.0 are drawn too
    st.sampled_from([-0.0, 0.0, float("inf"), float("-inf"), 5e-324, 1.7976931348623157e308]),
    st.booleans(),
    st.none(),
    st.just(...),
    st.binary(max_size=40),
)

# Naive, or a fixed offset in whole minutes within Neo4j's +-18:00: the store refuses
# sub-minute offsets, Neo4j refuses larger ones, and packing a zoneinfo datetime crashes
# CPython inside the driver (python/cpython#125318).
timezones = st.one_of(
    st.none(),
    st.integers(min_value=-18 * 60, max_value=18 * 60).map(
        lambda m: datetime.timezone(datetime.timedelta(minutes=m))),
)
datetimes = st.datetimes(timezones=timezones)


@st.composite
def code_texts(draw) -> str:
    lines = draw(st.lists(st.text(max_size=30).map(lambda s: s.replace("\n", " ")),
                          min_size=1, max_size=8))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@st.composite
def script_paths(draw) -> Path:
    parts = draw(st.lists(
        # No lone surrogates (os.fsdecode makes them from non-UTF-8 file names): they
        # cannot be encoded as UTF-8, so the store cannot send them to Neo4j at all.
        st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"),
                min_size=1, max_size=8),
        min_size=1, max_size=4))
    root = draw(st.sampled_from(["/", ""]))
    return Path(root + "/".join(parts))


@st.composite
def locations(draw, codes: list[tuple[str, Any]]) -> Loc | None:
    if not draw(st.booleans()):
        return None
    code = draw(st.integers(0, len(codes) - 1))
    lines = codes[code][0].split("\n")
    lineno = draw(st.integers(1, len(lines)))
    end_lineno = draw(st.integers(lineno, len(lines)))
    col = draw(st.integers(0, len(lines[lineno - 1])))
    low = col if end_lineno == lineno else 0
    end_col = draw(st.integers(low, max(low, len(lines[end_lineno - 1]))))
    return Loc(code, lineno, col, end_lineno, end_col)


@st.composite
def session_plans(draw) -> Plan:
    jupyter = draw(st.booleans())
    if jupyter:
        counts = draw(st.lists(st.integers(1, 500), min_size=1, max_size=4, unique=True))
        codes = [(draw(code_texts()), count) for count in counts]
    else:
        codes = [(draw(code_texts()), draw(script_paths()))]
    session = {
        "python_version": draw(st.sampled_from(["3.10.12", "3.11.9", "3.12.0rc1"]) | texts),
        "creation_time": draw(datetimes),
        "working_directory": draw(texts),
        "session_name": draw(optional_texts),
        "user_name": draw(optional_texts),
        "hardware_spec": draw(optional_texts),
    }

    nodes: list[tuple[type, dict]] = []
    calls: list[int] = []
    ifs_without_else: list[int] = []
    control: list[int] = []  # IfNode and ElseNode indices

    for i in range(draw(st.integers(1, MAX_NODES))):
        earlier = st.integers(0, i - 1).map(Ref) if i else None
        kinds = ["ImportNode", "LookupNode", "LiteralNode"]
        if i:
            kinds += ["CallNode", "CallNode", "IfNode"]
        if calls:
            kinds += ["MutateNode", "GlobalNode"]
        if ifs_without_else:
            kinds += ["ElseNode"]
        kind = draw(st.sampled_from(kinds))
        fields: dict[str, Any] = {"source_location": draw(locations(codes))}
        if control and draw(st.booleans()):
            fields["control_dependency"] = Ref(draw(st.sampled_from(control)))

        if kind == "ImportNode":
            cls = ImportNode
            fields.update(name=draw(texts), version=draw(optional_texts),
                          package_name=draw(optional_texts), path=draw(optional_texts))
        elif kind == "LookupNode":
            cls = LookupNode
            fields.update(name=draw(texts))
        elif kind == "LiteralNode":
            cls = LiteralNode
            fields.update(value=draw(literal_values))
        elif kind == "CallNode":
            cls = CallNode
            fields.update(
                function_id=draw(earlier),
                positional_args=[{"id": ref, "starred": starred} for ref, starred in draw(
                    st.lists(st.tuples(earlier, st.booleans()), max_size=4))],
                keyword_args=[{"key": key, "value": ref, "starred": starred}
                              for key, ref, starred in draw(st.lists(
                                  st.tuples(texts, earlier, st.booleans()), max_size=4))],
                global_reads=draw(st.dictionaries(texts, earlier, max_size=3)),
                implicit_dependencies=draw(st.lists(earlier, max_size=3)),
            )
            calls.append(i)
        elif kind == "MutateNode":
            cls = MutateNode
            fields.update(source_id=draw(earlier),
                          call_id=Ref(draw(st.sampled_from(calls))))
        elif kind == "GlobalNode":
            cls = GlobalNode
            fields.update(name=draw(texts), call_id=Ref(draw(st.sampled_from(calls))))
        elif kind == "IfNode":
            cls = IfNode
            fields.update(test_id=draw(earlier),
                          unexec_id=draw(st.none() | earlier), companion_id=None)
            ifs_without_else.append(i)
            control.append(i)
        else:
            cls = ElseNode
            companion = draw(st.sampled_from(ifs_without_else))
            ifs_without_else.remove(companion)
            fields.update(companion_id=Ref(companion), unexec_id=draw(st.none() | earlier))
            nodes[companion][1]["companion_id"] = Ref(i)  # the If names its Else too
            control.append(i)
        nodes.append((cls, fields))

    # A split is valid when nothing before it points past it (only an If naming its
    # Else points forward): then the first part can be committed on its own.
    forward = {j: ref.index for j, (cls, f) in enumerate(nodes)
               if cls is IfNode and f["companion_id"] is not None
               for ref in [f["companion_id"]]}
    splits = [k for k in range(len(nodes) + 1)
              if not any(j < k <= target for j, target in forward.items())]
    return Plan(
        jupyter=jupyter,
        id_suffix=draw(st.sampled_from(["", "'", '"', "ü-日本", " x"])
                       | st.text(max_size=4)),
        session=session,
        execution_time=draw(st.none() | datetimes),
        codes=codes,
        nodes=nodes,
        split=draw(st.sampled_from(splits)),
        codes_in_second_commit=draw(st.booleans()),
    )


# -- building models from a plan -----------------------------------------------------------


def build(plan: Plan, prefix: str) -> Graph:
    """The plan's graph with every id starting with ``prefix``."""
    sid = f"{prefix}session{plan.id_suffix}"
    execution = Execution(id=f"{prefix}execution{plan.id_suffix}",
                          timestamp=plan.execution_time)
    context = SessionContext(
        id=sid, execution_id=execution.id,
        environment_type=SessionType.JUPYTER if plan.jupyter else SessionType.SCRIPT,
        **plan.session,
    )
    codes = [
        SourceCode(id=f"{prefix}code{n}{plan.id_suffix}", code=text,
                   location=JupyterCell(execution_count=where, session_id=sid)
                   if plan.jupyter else where)
        for n, (text, where) in enumerate(plan.codes)
    ]

    def node_id(index: int) -> str:
        return f"{prefix}n{index}{plan.id_suffix}"

    def resolve(value: Any) -> Any:
        if isinstance(value, Ref):
            return node_id(value.index)
        if isinstance(value, Loc):
            return SourceLocation(lineno=value.lineno, col_offset=value.col_offset,
                                  end_lineno=value.end_lineno,
                                  end_col_offset=value.end_col_offset,
                                  source_code=codes[value.code])
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    nodes = [cls(id=node_id(i), session_id=sid, **resolve(fields))
             for i, (cls, fields) in enumerate(plan.nodes)]
    return Graph(prefix, execution, context, codes, nodes)


def every_kind_plan(jupyter: bool) -> Plan:
    """A plan with every node type, every literal kind (the rare ones included) and
    every awkward name, run by both properties on every run besides the drawn ones."""
    script = "import math\nx = math.sqrt(4)\nif x:\n    print('ü')\nelse:\n    pass\n"
    if jupyter:  # out-of-order execution counts and an empty cell
        codes = [("import math\nx = math.sqrt(4)\n", 3),
                 ("if x:\n    print('ü')\nelse:\n    pass\n", 1), ("", 7)]
    else:
        codes = [(script, Path("/home/u/it's \"my\" prøject/script.py"))]

    def loc(line: int, col: int, end_col: int) -> Loc:
        if jupyter and line > 2:
            return Loc(1, line - 2, col, line - 2, end_col)
        return Loc(0, line, col, line, end_col)

    def lit(value: Any, **extra: Any) -> tuple[type, dict]:
        return LiteralNode, {"value": value, **extra}

    nodes: list[tuple[type, dict]] = [
        (ImportNode, {"name": "math", "version": "1.0", "package_name": "math",
                      "path": "/usr/lib/python3.10/math.py",
                      "source_location": loc(1, 0, 11)}),
        (LookupNode, {"name": "getattr"}),
        lit("sqrt"),
        lit(4, source_location=loc(2, 14, 15)),
        lit(-0.0), lit(float("inf")), lit(float("-inf")),
        lit(2**64),  # past 64 bits, decimal
        lit(-(2**10_000) - 1),  # stored as hex
        lit(True), lit(None), lit(...), lit(b"\x00\xff'\""), lit(""),
        lit("it's \"quoted\" ü 日本 🐍 \x00"),
        lit(0), lit(False), lit(1.0),
        (CallNode, {"function_id": Ref(1), "source_location": loc(2, 4, 13),
                    "positional_args": [{"id": Ref(0), "starred": False},
                                        {"id": Ref(2), "starred": False}]}),
        (CallNode, {
            "function_id": Ref(18), "source_location": loc(2, 0, 15),
            "positional_args": [{"id": Ref(3), "starred": False},
                                {"id": Ref(7), "starred": True},
                                {"id": Ref(3), "starred": False}],
            "keyword_args": [{"key": "it's", "value": Ref(4), "starred": False},
                             {"key": 'say "hi"', "value": Ref(5), "starred": True},
                             {"key": "ü日本", "value": Ref(6), "starred": False},
                             {"key": "", "value": Ref(8), "starred": True},
                             {"key": "it's", "value": Ref(15), "starred": False}],
            "global_reads": {"g'": Ref(9), 'h"': Ref(10), "Ω": Ref(0), "": Ref(16)},
            "implicit_dependencies": [Ref(11), Ref(12), Ref(11), Ref(17)],
        }),
        (MutateNode, {"source_id": Ref(3), "call_id": Ref(19)}),
        (GlobalNode, {"name": "x", "call_id": Ref(19)}),
        (IfNode, {"test_id": Ref(19), "unexec_id": Ref(13), "companion_id": Ref(23),
                  "source_location": loc(3, 0, 5)}),
        (ElseNode, {"companion_id": Ref(22), "unexec_id": Ref(14),
                    "control_dependency": Ref(22), "source_location": loc(5, 0, 5)}),
        (LookupNode, {"name": "print", "control_dependency": Ref(22),
                      "source_location": loc(4, 4, 9)}),
        (CallNode, {"function_id": Ref(24), "control_dependency": Ref(22),
                    "positional_args": [{"id": Ref(14), "starred": False}],
                    "source_location": loc(4, 4, 14)}),
        (IfNode, {"test_id": Ref(25), "control_dependency": Ref(23)}),
        lit(2**63 - 1, control_dependency=Ref(26)),
        lit(-(2**63)),
    ]
    offset = datetime.timezone(datetime.timedelta(hours=5, minutes=45))
    return Plan(
        jupyter=jupyter,
        id_suffix="-ü'\"" if jupyter else "",
        session={
            "python_version": "3.10.12",
            "creation_time": datetime.datetime(2024, 5, 1, 12, 30, 15, 123456,
                                               tzinfo=offset if jupyter else None),
            "working_directory": "/home/u/it's \"my\" prøject",
            "session_name": "my 'session'" if jupyter else None,
            "user_name": "zoë",
            "hardware_spec": None if jupyter else "",
        },
        execution_time=datetime.datetime(2024, 5, 1, 12, 30, 16),
        codes=codes,
        nodes=nodes,
        split=20,  # after the calls, before the If/Else pair
        codes_in_second_commit=jupyter,
    )


def unique_prefix() -> str:
    return f"prop-{uuid.uuid4().hex}-"


# -- strict comparison -----------------------------------------------------------------------


def strict(value: Any, prefix: str | None = None) -> Any:
    """A form of a ``model_dump()`` whose equality also checks types: ``True != 1``,
    ``-0.0 != 0.0``, offsets of datetimes. With ``prefix``, ids lose it, so graphs
    built under different prefixes compare equal when they have the same shape."""
    if isinstance(value, dict):
        return {strict(k, prefix): strict(v, prefix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v, prefix) for v in value]
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, str):  # before enum: no str-valued enums are dumped, but be safe
        if prefix and value.startswith(prefix):
            return ("id", value[len(prefix):])
        return ("str", value)
    if isinstance(value, enum.Enum):
        return ("enum", type(value).__name__, value.name)
    if isinstance(value, (bool, int, bytes, type(None), type(...))):
        return (type(value).__name__, value)
    if isinstance(value, datetime.datetime):
        return ("datetime", value.replace(tzinfo=None).isoformat(), value.utcoffset())
    if isinstance(value, Path):
        return ("path", str(value))
    raise TypeError(f"unexpected value in a model dump: {value!r}")


def dumps_by_id(nodes: list[BaseNode]) -> dict[str, dict]:
    return {node.id: node.model_dump() for node in nodes}


def differences(read: dict[str, dict], wrote: dict[str, dict], prefix: str | None = None,
                wrote_prefix: str | None = None) -> list[str]:
    """What differs between two ``{id: model_dump()}`` maps, field by field, both by
    ``==`` and strictly (see :func:`strict`); empty when they are the same."""
    def key(node_id: str, p: str | None) -> str:
        return node_id[len(p):] if p and node_id.startswith(p) else node_id

    read_k = {key(i, prefix): d for i, d in read.items()}
    wrote_k = {key(i, wrote_prefix): d for i, d in wrote.items()}
    found = [f"node {i!r} was written but not read back"
             for i in sorted(wrote_k.keys() - read_k.keys())]
    found += [f"node {i!r} was read back but never written"
              for i in sorted(read_k.keys() - wrote_k.keys())]
    for node_id in sorted(read_k.keys() & wrote_k.keys()):
        r, w = read_k[node_id], wrote_k[node_id]
        for field in sorted(r.keys() | w.keys()):
            a, b = r.get(field), w.get(field)
            if (prefix is None and a != b) or strict(a, prefix) != strict(b, wrote_prefix):
                found.append(f"node {node_id!r} field {field!r}: read {a!r}, wrote {b!r}")
    return found


def assert_same_nodes(read: list[BaseNode], wrote: list[BaseNode], what: str) -> None:
    problems = differences(dumps_by_id(read), dumps_by_id(wrote))
    assert not problems, f"{what}:\n" + "\n".join(problems)


# -- writing and reading ---------------------------------------------------------------------


def write_header(db: GraphLineaDB, graph: Graph, with_codes: bool = True) -> None:
    db.write_execution(graph.execution)
    db.write_context(graph.context)
    if with_codes:
        for code in graph.codes:
            db.write_source_code(code)


def write_nodes(db: GraphLineaDB, nodes: list[BaseNode]) -> None:
    for node in nodes:
        db.write_node(node)


def fresh_reader(store: GraphLineaDB) -> GraphLineaDB:
    """Another store on the same graph, with nothing pending or cached: its first read
    of anything comes from Neo4j."""
    return GraphLineaDB(store.driver, database=store.database, blobs=store.blobs)


def edge_count(nodes: list[BaseNode]) -> int:
    return sum(len(list(node.parents())) for node in nodes)


def assert_reads_back(reader: Callable[[], GraphLineaDB], graph: Graph) -> list[BaseNode]:
    """Every node of ``graph`` and its session read back equal to what was written;
    the session holds exactly those nodes. Each kind of read gets its own ``reader()``,
    so one read cannot be answered from what another one cached. Returns the nodes
    read by session."""
    by_session = reader().get_nodes_for_session(graph.context.id)
    assert sorted(n.id for n in by_session) == sorted(n.id for n in graph.nodes)
    assert_same_nodes(by_session, graph.nodes, "get_nodes_for_session")

    db = reader()
    by_id = [db.get_node_by_id(node.id) for node in graph.nodes]
    assert [n.id for n in by_id] == [n.id for n in graph.nodes]
    assert_same_nodes(by_id, graph.nodes, "get_node_by_id")

    db = reader()
    context = db.get_session_context(graph.context.id)
    assert context == graph.context
    assert strict(context.model_dump()) == strict(graph.context.model_dump())

    if graph.context.environment_type is SessionType.JUPYTER:
        cells = sorted(graph.codes, key=lambda c: c.location.execution_count)
        assert db.get_source_code_for_session(graph.context.id) == "".join(
            c.code for c in cells)
    elif any(n.source_location is not None for n in graph.nodes):
        assert db.get_source_code_for_session(graph.context.id) == graph.codes[0].code
    return by_session


# -- the properties -----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(plan=session_plans())
@example(plan=every_kind_plan(jupyter=False))
@example(plan=every_kind_plan(jupyter=True))
def test_a_random_session_committed_at_once_reads_back_exactly_as_written(store, plan):
    graph = build(plan, unique_prefix())
    write_header(store, graph)
    write_nodes(store, graph.nodes)

    stats = store.commit()

    assert stats.nodes == len(graph.nodes)
    assert stats.edges == edge_count(graph.nodes)
    assert_reads_back(lambda: fresh_reader(store), graph)
    # The store that wrote reads the same once nothing is pending.
    assert_reads_back(lambda: store, graph)


@PROPERTY_SETTINGS
@given(plan=session_plans())
@example(plan=every_kind_plan(jupyter=False))
@example(plan=every_kind_plan(jupyter=True))
def test_a_random_session_committed_in_two_parts_reads_back_as_if_committed_at_once(
    store, plan
):
    at_once = build(plan, unique_prefix())
    write_header(store, at_once)
    write_nodes(store, at_once.nodes)
    store.commit()

    in_parts = build(plan, unique_prefix())
    first, second = in_parts.nodes[:plan.split], in_parts.nodes[plan.split:]
    write_header(store, in_parts, with_codes=not plan.codes_in_second_commit)
    write_nodes(store, first)
    stats_first = store.commit()
    assert stats_first.nodes == len(first)
    assert stats_first.edges == edge_count(first)
    between = fresh_reader(store).get_nodes_for_session(in_parts.context.id)
    assert_same_nodes(between, first, "after the first commit")

    if plan.codes_in_second_commit:
        for code in in_parts.codes:
            store.write_source_code(code)
    write_nodes(store, second)
    stats_second = store.commit()
    assert stats_second.nodes == len(second)
    assert stats_second.edges == edge_count(second)

    read_at_once = assert_reads_back(lambda: fresh_reader(store), at_once)
    read_in_parts = assert_reads_back(lambda: fresh_reader(store), in_parts)
    problems = differences(dumps_by_id(read_in_parts), dumps_by_id(read_at_once),
                           in_parts.prefix, at_once.prefix)
    assert not problems, "two commits vs one:\n" + "\n".join(problems)
