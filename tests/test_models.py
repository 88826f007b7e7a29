"""Pure-Python tests of lineagraph.models: no database needed."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any, List

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from lineagraph.models import (
    NODE_ADAPTER,
    NODE_CLASSES,
    Artifact,
    BaseNode,
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    JupyterCell,
    KeywordArgument,
    LineaID,
    LiteralNode,
    LiteralType,
    LookupNode,
    MutateNode,
    NodeType,
    NodeValue,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
    ValueType,
    decode_literal,
    encode_literal,
    get_new_id,
    get_type_of_literal_value,
    node_from_dict,
)

SESSION = LineaID("session-1")


def same_literal(a: Any, b: Any) -> bool:
    """Equal and of the same type; NaN counts as equal to NaN, -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


# ---------------------------------------------------------------- literals

LITERAL_EXAMPLES = [
    "",
    "héllo\n\x00'\"",
    "None",
    "True",
    0,
    -1,
    2**63,
    -(2**64) - 1,
    10**5000,  # past CPython's 4300-digit str() limit
    -(10**5000),
    0.0,
    -0.0,
    1.5,
    1e-320,  # subnormal
    float("inf"),
    float("-inf"),
    float("nan"),
    True,
    False,
    None,
    ...,
    b"",
    b"\x00\xff binary",
]


def _literal_id(value: Any) -> str:
    if type(value) is int and value.bit_length() > 64:
        return f"int:{value.bit_length()}bits"
    return f"{type(value).__name__}:{value!r:.20}"


@pytest.mark.parametrize("value", LITERAL_EXAMPLES, ids=_literal_id)
def test_every_literal_kind_survives_encode_then_decode_with_its_type(value: Any) -> None:
    decoded = decode_literal(encode_literal(value))
    assert same_literal(decoded, value), (value, decoded)


@given(
    st.one_of(
        st.text(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.just(Ellipsis),
        st.binary(),
    )
)
def test_any_supported_literal_round_trips_exactly(value: Any) -> None:
    assert same_literal(decode_literal(encode_literal(value)), value)


@given(st.integers(min_value=-(2**40000), max_value=2**40000))
def test_huge_integers_round_trip_exactly(value: int) -> None:
    assert decode_literal(encode_literal(value)) == value


def test_encoded_literal_is_only_strings_so_neo4j_can_store_it() -> None:
    for value in LITERAL_EXAMPLES:
        encoded = encode_literal(value)
        assert set(encoded) == {"value_type", "value"}
        assert all(type(v) is str for v in encoded.values()), encoded


def test_encoding_uses_lineapy_literal_type_names_and_str_values() -> None:
    assert encode_literal(123) == {"value_type": "Integer", "value": "123"}
    assert encode_literal(True) == {"value_type": "Boolean", "value": "True"}
    assert encode_literal(None) == {"value_type": "NoneType", "value": "None"}
    assert encode_literal(...) == {"value_type": "Ellipsis", "value": "Ellipsis"}
    assert encode_literal(-0.0) == {"value_type": "Float", "value": "-0.0"}
    assert encode_literal(b"hi") == {"value_type": "Bytes", "value": "aGk="}


@pytest.mark.parametrize("value", [True, False])
def test_bool_literal_stays_bool_and_does_not_become_int(value: bool) -> None:
    assert get_type_of_literal_value(value) is LiteralType.Boolean
    decoded = decode_literal(encode_literal(value))
    assert type(decoded) is bool and decoded is value
    node = LiteralNode(id=get_new_id(), session_id=SESSION, value=value)
    assert type(node.value) is bool
    assert type(node_from_dict(node.model_dump()).value) is bool
    assert type(node_from_dict(node.model_dump(mode="json")).value) is bool


def test_int_one_is_not_confused_with_true() -> None:
    assert decode_literal(encode_literal(1)) is not True
    assert type(decode_literal(encode_literal(1))) is int


@pytest.mark.parametrize(
    "value, type_name",
    [([1], "list"), ({"a": 1}, "dict"), ((1,), "tuple"), (1j, "complex"), (object(), "object")],
)
def test_unsupported_literal_raises_value_error_naming_its_type(value: Any, type_name: str) -> None:
    with pytest.raises(ValueError, match=rf"\b{type_name}\b"):
        encode_literal(value)
    with pytest.raises(ValueError, match=rf"\b{type_name}\b"):
        LiteralNode(id=get_new_id(), session_id=SESSION, value=value)


def test_subclass_of_a_literal_type_is_rejected_because_it_would_not_round_trip() -> None:
    class MyStr(str):
        pass

    with pytest.raises(ValueError, match="MyStr"):
        encode_literal(MyStr("x"))


@pytest.mark.parametrize(
    "encoded",
    [
        {"value_type": "List", "value": "[]"},
        {"value": "1"},
        {"value_type": "Boolean", "value": "1"},
        {"value_type": "Integer", "value": "twelve"},
        {"value_type": "Integer", "value": 12},
        {"value_type": "Bytes", "value": "not base64!"},
        {"value_type": "Bytes", "value": "aGk=!"},  # valid base64 plus junk
        {"value_type": "String"},
    ],
)
def test_malformed_encoded_literal_raises_value_error(encoded: dict) -> None:
    with pytest.raises(ValueError):
        decode_literal(encoded)


@pytest.mark.parametrize("value", LITERAL_EXAMPLES, ids=_literal_id)
def test_literal_node_keeps_value_type_through_python_and_json_dumps(value: Any) -> None:
    node = LiteralNode(id=get_new_id(), session_id=SESSION, value=value)
    assert same_literal(node.value, value)
    from_python = node_from_dict(node.model_dump())
    from_json = NODE_ADAPTER.validate_json(node.model_dump_json())
    assert isinstance(from_python, LiteralNode) and isinstance(from_json, LiteralNode)
    assert same_literal(from_python.value, value)
    assert same_literal(from_json.value, value)


def test_literal_node_requires_a_value_even_if_it_is_none() -> None:
    with pytest.raises(ValidationError):
        LiteralNode(id=get_new_id(), session_id=SESSION)
    assert LiteralNode(id=get_new_id(), session_id=SESSION, value=None).value is None


# ---------------------------------------------------------------- parents()


def _source_location() -> SourceLocation:
    code = SourceCode(id=LineaID("src"), code="x = 1\n", location=Path("script.py"))
    return SourceLocation(lineno=1, col_offset=0, end_lineno=1, end_col_offset=5, source_code=code)


def make_nodes() -> List[BaseNode]:
    """One node of every type, with every optional link set."""
    loc = _source_location()
    common = dict(session_id=SESSION, source_location=loc, control_dependency=LineaID("ctrl"))
    return [
        ImportNode(id=LineaID("imp"), name="pandas", version="2.0", package_name="pandas", path="/site/pandas", **common),
        CallNode(
            id=LineaID("call"),
            function_id=LineaID("fn"),
            positional_args=[PositionalArgument(id=LineaID("p0")), PositionalArgument(id=LineaID("p1"), starred=True)],
            keyword_args=[KeywordArgument(key="k", value=LineaID("kv")), KeywordArgument(key="", value=LineaID("kw2"), starred=True)],
            global_reads={"g": LineaID("gr")},
            implicit_dependencies=[LineaID("imp1"), LineaID("imp2")],
            **common,
        ),
        LiteralNode(id=LineaID("lit"), value=42, **common),
        LookupNode(id=LineaID("look"), name="print", **common),
        MutateNode(id=LineaID("mut"), source_id=LineaID("src_node"), call_id=LineaID("mut_call"), **common),
        GlobalNode(id=LineaID("glob"), name="x", call_id=LineaID("glob_call"), **common),
        IfNode(id=LineaID("if"), test_id=LineaID("test"), companion_id=LineaID("else"), unexec_id=LineaID("unexec_if"), **common),
        ElseNode(id=LineaID("else"), companion_id=LineaID("if"), unexec_id=LineaID("unexec_else"), **common),
    ]


EXPECTED_PARENTS = {
    "imp": ["ctrl"],
    "call": ["ctrl", "fn", "p0", "p1", "kv", "kw2", "gr", "imp1", "imp2"],
    "lit": ["ctrl"],
    "look": ["ctrl"],
    "mut": ["ctrl", "src_node", "mut_call"],
    "glob": ["ctrl", "glob_call"],
    "if": ["ctrl", "else", "unexec_if", "test"],
    "else": ["ctrl", "if", "unexec_else"],
}


@pytest.mark.parametrize("node", make_nodes(), ids=lambda n: type(n).__name__)
def test_parents_lists_exactly_the_ids_each_node_depends_on(node: BaseNode) -> None:
    assert list(node.parents()) == EXPECTED_PARENTS[node.id]


def test_nodes_without_optional_links_have_only_their_required_parents() -> None:
    bare = [
        (ImportNode(id=LineaID("i"), session_id=SESSION, name="os"), []),
        (LiteralNode(id=LineaID("l"), session_id=SESSION, value="s"), []),
        (LookupNode(id=LineaID("k"), session_id=SESSION, name="int"), []),
        (CallNode(id=LineaID("c"), session_id=SESSION, function_id=LineaID("f")), ["f"]),
        (GlobalNode(id=LineaID("g"), session_id=SESSION, name="x", call_id=LineaID("c")), ["c"]),
        (IfNode(id=LineaID("if"), session_id=SESSION, test_id=LineaID("t")), ["t"]),
        (ElseNode(id=LineaID("el"), session_id=SESSION, companion_id=LineaID("if")), ["if"]),
    ]
    for node, expected in bare:
        assert list(node.parents()) == expected, type(node).__name__


def test_make_nodes_covers_every_node_type() -> None:
    assert {n.node_type for n in make_nodes()} == set(NODE_CLASSES) == set(NodeType) - {NodeType.Node}


# ---------------------------------------------------------------- discriminated union


@pytest.mark.parametrize("node", make_nodes(), ids=lambda n: type(n).__name__)
def test_node_from_dict_rebuilds_the_same_subclass_and_fields(node: BaseNode) -> None:
    for dumped in (node.model_dump(), node.model_dump(mode="json")):
        rebuilt = node_from_dict(dumped)
        assert type(rebuilt) is type(node)
        assert rebuilt == node
        # SourceCode compares by id only, so also compare every dumped field.
        assert rebuilt.model_dump() == node.model_dump()


@pytest.mark.parametrize("node", make_nodes(), ids=lambda n: type(n).__name__)
def test_node_type_defaults_to_the_class_own_type(node: BaseNode) -> None:
    assert node.node_type is NodeType[type(node).__name__]


@pytest.mark.parametrize("spelling", [NodeType.LookupNode, "LookupNode", NodeType.LookupNode.value])
def test_node_type_may_be_given_as_member_name_or_value(spelling: Any) -> None:
    node = node_from_dict({"id": "n", "session_id": SESSION, "node_type": spelling, "name": "len"})
    assert isinstance(node, LookupNode)


@pytest.mark.parametrize("bad", [None, "Node", "NoSuchNode", True, 999])
def test_node_from_dict_rejects_missing_or_unknown_node_type(bad: Any) -> None:
    data = {"id": "n", "session_id": SESSION, "name": "len"}
    if bad is not None:
        data["node_type"] = bad
    with pytest.raises(ValidationError):
        node_from_dict(data)


def test_node_type_must_match_the_class() -> None:
    with pytest.raises(ValidationError):
        LookupNode(id="n", session_id=SESSION, name="len", node_type=NodeType.CallNode)


def test_unknown_field_is_rejected_to_catch_typos() -> None:
    with pytest.raises(ValidationError, match="functon_id"):
        node_from_dict({"id": "c", "session_id": SESSION, "node_type": "CallNode", "function_id": "f", "functon_id": "f"})


def test_call_node_argument_order_survives_round_trip() -> None:
    ids = [LineaID(f"a{i}") for i in range(10)]
    node = CallNode(id="c", session_id=SESSION, function_id="f", positional_args=[PositionalArgument(id=i) for i in ids])
    rebuilt = node_from_dict(node.model_dump(mode="json"))
    assert [a.id for a in rebuilt.positional_args] == ids


# ---------------------------------------------------------------- source code and other models


def test_source_code_location_may_be_a_file_path() -> None:
    code = SourceCode(id="s", code="print(1)", location=Path("/tmp/a.py"))
    assert code.location == Path("/tmp/a.py")
    rebuilt = SourceCode.model_validate(code.model_dump(mode="json"))
    assert isinstance(rebuilt.location, Path) and rebuilt.location == Path("/tmp/a.py")


def test_source_code_location_may_be_a_jupyter_cell() -> None:
    cell = JupyterCell(execution_count=3, session_id=SESSION)
    code = SourceCode(id="s", code="x = 1", location=cell)
    assert isinstance(code.location, JupyterCell)
    rebuilt = SourceCode.model_validate(code.model_dump(mode="json"))
    assert isinstance(rebuilt.location, JupyterCell)
    assert rebuilt.location == cell


def test_jupyter_cells_of_one_session_order_by_execution_count() -> None:
    first = SourceCode(id="a", code="", location=JupyterCell(execution_count=1, session_id=SESSION))
    second = SourceCode(id="b", code="", location=JupyterCell(execution_count=2, session_id=SESSION))
    assert first < second and not second < first


def test_nodes_sort_unlocated_first_then_by_line() -> None:
    code = SourceCode(id="s", code="", location=Path("a.py"))
    at = lambda line: SourceLocation(lineno=line, col_offset=0, end_lineno=line, end_col_offset=1, source_code=code)  # noqa: E731
    late = LookupNode(id="late", session_id=SESSION, name="x", source_location=at(5))
    early = LookupNode(id="early", session_id=SESSION, name="x", source_location=at(2))
    nowhere = LookupNode(id="nowhere", session_id=SESSION, name="x")
    assert [n.id for n in sorted([late, early, nowhere])] == ["nowhere", "early", "late"]


def test_session_context_accepts_lineapy_enum_value_or_name() -> None:
    fields = dict(
        id=get_new_id(),
        python_version="3.11.7",
        creation_time=datetime.datetime(2023, 2, 1, 12, 0),
        working_directory="/work",
        execution_id=get_new_id(),
    )
    by_value = SessionContext(environment_type=2, **fields)
    by_name = SessionContext(environment_type="SCRIPT", **fields)
    assert by_value.environment_type is by_name.environment_type is SessionType.SCRIPT
    assert by_value.session_name is None and by_value.hardware_spec is None
    assert SessionContext.model_validate(by_value.model_dump(mode="json")) == by_value


def test_session_context_requires_execution_and_python_version() -> None:
    with pytest.raises(ValidationError) as info:
        SessionContext(
            id="s",
            environment_type=SessionType.JUPYTER,
            creation_time=datetime.datetime(2023, 1, 1),
            working_directory="/",
        )
    missing = {e["loc"][0] for e in info.value.errors()}
    assert missing == {"python_version", "execution_id"}


def test_node_value_value_type_is_a_plain_string_category() -> None:
    nv = NodeValue(node_id="n", execution_id="e", value="pickle-abc", value_type="dataset")
    assert nv.value_type is ValueType.dataset
    assert isinstance(nv.value_type, str) and nv.value_type == "dataset"
    assert nv.start_time is None and nv.end_time is None
    with pytest.raises(ValidationError):
        NodeValue(node_id="n", execution_id="e", value="k", value_type="picture")


def test_artifact_version_is_an_integer() -> None:
    art = Artifact(node_id="n", execution_id="e", name="model", version=3, date_created=datetime.datetime(2023, 1, 1))
    assert Artifact.model_validate(art.model_dump(mode="json")) == art
    with pytest.raises(ValidationError):
        Artifact(node_id="n", execution_id="e", name="model", version="latest", date_created=datetime.datetime(2023, 1, 1))


def test_execution_timestamp_is_optional() -> None:
    assert Execution(id="e").timestamp is None


def test_get_new_id_returns_distinct_uuid_strings() -> None:
    ids = {get_new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(isinstance(i, str) and len(i) == 36 for i in ids)


def test_new_ids_are_distinct_version_4_uuids_also_in_a_forked_child():
    import os
    import uuid

    ids = [get_new_id() for _ in range(3000)]  # several draws of random bytes
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)
    get_new_id()  # random bytes are left for the parent
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child's ids must not be the parent's next ones
        os.write(write, ",".join(get_new_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        in_child = pipe.read().split(",")
    in_parent = [get_new_id() for _ in range(5)]
    assert len(in_child) == 5 and not set(in_child) & set(in_parent)
