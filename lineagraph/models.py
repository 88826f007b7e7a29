"""Pydantic v2 models of LineaPy 0.2.3's lineage graph (``lineapy/data/types.py``).

Names, fields and enum values follow LineaPy so its users recognise them; the
storage layer (Neo4j) maps these models to nodes and relationships. The one
place that defines which node depends on which is ``parents()`` on each node
class, exactly as in LineaPy.

``LiteralNode.value`` cannot be stored as-is in Neo4j (no ``None``/``Ellipsis``,
integers limited to 64 bits), so ``encode_literal``/``decode_literal`` give an
exact string encoding using LineaPy's ``LiteralType`` names.
"""

from __future__ import annotations

import base64
import datetime
from enum import Enum, auto
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    NewType,
    Optional,
    Type,
    TypeVar,
    Union,
)
from uuid import uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    field_serializer,
    field_validator,
)
from typing_extensions import NotRequired, TypedDict

__all__ = [
    "LineaID",
    "get_new_id",
    "SessionType",
    "NodeType",
    "LiteralType",
    "ValueType",
    "SessionContext",
    "Execution",
    "JupyterCell",
    "SourceCodeLocation",
    "SourceCode",
    "SourceLocation",
    "BaseNode",
    "ImportNode",
    "PositionalArgument",
    "KeywordArgument",
    "CallNode",
    "LiteralNode",
    "LookupNode",
    "MutateNode",
    "GlobalNode",
    "ControlFlowNode",
    "IfNode",
    "ElseNode",
    "ControlNode",
    "Node",
    "NODE_CLASSES",
    "NODE_ADAPTER",
    "node_from_dict",
    "Artifact",
    "NodeValue",
    "AssignedVariable",
    "LineaArtifactDef",
    "get_type_of_literal_value",
    "encode_literal",
    "decode_literal",
]

# A NewType rather than plain str so annotations still say "this is a node id".
LineaID = NewType("LineaID", str)


def get_new_id() -> LineaID:
    """A fresh id; random UUIDs need no coordination to be unique."""
    return LineaID(str(uuid4()))


# --------------------------------------------------------------------------
# Enums (values are LineaPy's, so anything persisted by value stays compatible)
# --------------------------------------------------------------------------


class SessionType(Enum):
    """JUPYTER sessions grow cell by cell; SCRIPT sessions run to the end."""

    JUPYTER = 1
    SCRIPT = 2


class NodeType(Enum):
    Node = auto()
    CallNode = auto()
    LiteralNode = auto()
    ImportNode = auto()
    LookupNode = auto()
    MutateNode = auto()
    GlobalNode = auto()
    IfNode = auto()
    ElseNode = auto()


class LiteralType(Enum):
    String = auto()
    Integer = auto()
    Float = auto()
    Boolean = auto()
    NoneType = auto()
    Ellipsis = auto()
    Bytes = auto()


class ValueType(str, Enum):
    """Kind of a stored node value.

    LineaPy numbers these 1..5 but persists (and its UI expects) the lower-case
    names, so here the value *is* the name: the member is also a plain ``str``
    that Neo4j can store directly.
    """

    chart = "chart"
    array = "array"
    dataset = "dataset"
    code = "code"
    value = "value"  # includes int, string, bool


_E = TypeVar("_E", bound=Enum)


def _coerce_enum(enum_cls: Type[_E], raw: Any) -> Any:
    """Accept a member, its name (how LineaPy's SQL and Neo4j labels spell it)
    or its value (what ``model_dump(mode="json")`` emits); otherwise hand the
    input back unchanged so pydantic reports the error."""
    if isinstance(raw, enum_cls):
        return raw
    # bool is an int: True must not silently become the member valued 1.
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw in enum_cls.__members__:
        return enum_cls[raw]
    try:
        return enum_cls(raw)
    except (ValueError, TypeError):
        return raw


class _Model(BaseModel):
    # Unknown keys are almost always typos in a property name; fail loudly.
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------
# Sessions, executions, source code
# --------------------------------------------------------------------------


class Execution(_Model):
    """One Python interpreter run, during which node values were recorded."""

    id: LineaID
    timestamp: Optional[datetime.datetime] = None


class SessionContext(_Model):
    """One trace of a script or notebook."""

    id: LineaID
    environment_type: SessionType
    python_version: str
    creation_time: datetime.datetime
    working_directory: str
    # Set by `lineapy.tracing(session_name=...)`-style entry points.
    session_name: Optional[str] = None
    user_name: Optional[str] = None
    # LineaPy's SQL table has this column although its pydantic model dropped it.
    hardware_spec: Optional[str] = None
    execution_id: LineaID

    @field_validator("environment_type", mode="before")
    @classmethod
    def _session_type_by_name_or_value(cls, v: Any) -> Any:
        return _coerce_enum(SessionType, v)


class JupyterCell(_Model):
    # nbformat's execution_count of the cell
    execution_count: int
    session_id: LineaID


SourceCodeLocation = Union[Path, JupyterCell]


class SourceCode(_Model):
    """Code that was executed, from a file or a notebook cell.

    As in LineaPy, identity is the id: two objects with the same id are the
    same source even if one was loaded without its code.
    """

    id: LineaID
    code: str
    location: SourceCodeLocation

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceCode):
            return NotImplemented
        return self.id == other.id

    def __lt__(self, other: object) -> bool:
        """Orders notebook cells of one session; a file is not before itself;
        anything else is incomparable."""
        if not isinstance(other, SourceCode):
            return NotImplemented
        a, b = self.location, other.location
        if isinstance(a, Path) and isinstance(b, Path):
            return False if a == b else NotImplemented
        if isinstance(a, JupyterCell) and isinstance(b, JupyterCell):
            if a.session_id != b.session_id:
                return NotImplemented
            return a.execution_count < b.execution_count
        return NotImplemented


class SourceLocation(_Model):
    """Where in the user's source a node came from (1-based lines, 0-based columns)."""

    lineno: int
    col_offset: int = Field(repr=False)
    end_lineno: int = Field(repr=False)
    end_col_offset: int = Field(repr=False)
    source_code: SourceCode = Field(repr=False)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SourceLocation):
            return NotImplemented
        source_code_lt = self.source_code.__lt__(other.source_code)
        if source_code_lt is NotImplemented:
            return NotImplemented
        if self.source_code.location == other.source_code.location:
            return (self.lineno, self.col_offset) < (
                other.lineno,
                other.col_offset,
            )
        return source_code_lt


# --------------------------------------------------------------------------
# Literal values
# --------------------------------------------------------------------------

# Exact type checks: a subclass (IntEnum, numpy scalar, str subclass) would
# come back as its base type, so it cannot round-trip and is rejected.
_LITERAL_TYPES: Dict[type, LiteralType] = {
    str: LiteralType.String,
    bool: LiteralType.Boolean,
    int: LiteralType.Integer,
    float: LiteralType.Float,
    type(None): LiteralType.NoneType,
    type(Ellipsis): LiteralType.Ellipsis,
    bytes: LiteralType.Bytes,
}

# Decimal is readable, but CPython refuses to str()/int() decimals longer than
# 4300 digits by default; 10_000 bits is ~3011 digits, so past it we switch to
# hex, which has no such limit. Fixed, so decoding never depends on settings.
_MAX_DECIMAL_INT_BITS = 10_000


def get_type_of_literal_value(value: Any) -> LiteralType:
    """LineaPy's classifier, but strict: raises ``ValueError`` naming the type."""
    try:
        return _LITERAL_TYPES[type(value)]
    except KeyError:
        raise ValueError(
            f"unsupported literal type {type(value).__qualname__!r} "
            f"(value {value!r}); supported: str, int, float, bool, None, "
            "Ellipsis, bytes"
        ) from None


def encode_literal(value: Any) -> Dict[str, str]:
    """Encode a literal as ``{"value_type": <LiteralType name>, "value": <str>}``.

    Both are plain strings, so they fit any Neo4j property or JSON document.
    ``value`` equals LineaPy's ``str(value)`` for everything but bytes (base64
    here) and integers too large for decimal (``0x``-prefixed hex here).
    """
    literal_type = get_type_of_literal_value(value)
    if literal_type is LiteralType.Integer:
        text = str(value) if value.bit_length() <= _MAX_DECIMAL_INT_BITS else hex(value)
    elif literal_type is LiteralType.Float:
        # repr is the shortest exact form and gives 'nan', 'inf', '-0.0'.
        text = repr(value)
    elif literal_type is LiteralType.Bytes:
        text = base64.b64encode(value).decode("ascii")
    else:
        # str, bool ('True'/'False'), None ('None'), Ellipsis ('Ellipsis')
        text = str(value)
    return {"value_type": literal_type.name, "value": text}


def decode_literal(encoded: Mapping[str, Any]) -> Any:
    """Inverse of :func:`encode_literal`; raises ``ValueError`` on malformed input."""
    raw_type = encoded.get("value_type")
    literal_type = _coerce_enum(LiteralType, raw_type)
    if not isinstance(literal_type, LiteralType):
        raise ValueError(f"unknown literal value_type {raw_type!r}")
    if literal_type is LiteralType.NoneType:
        return None
    if literal_type is LiteralType.Ellipsis:
        return ...
    text = encoded.get("value")
    if not isinstance(text, str):
        raise ValueError(
            f"encoded {literal_type.name} literal needs a str 'value', got {text!r}"
        )
    if literal_type is LiteralType.String:
        return text
    if literal_type is LiteralType.Boolean:
        if text == "True":
            return True
        if text == "False":
            return False
        raise ValueError(f"encoded Boolean literal must be 'True' or 'False', got {text!r}")
    if literal_type is LiteralType.Integer:
        unsigned = text[1:] if text.startswith("-") else text
        base = 16 if unsigned[:2].lower() == "0x" else 10
        return int(text, base)
    if literal_type is LiteralType.Float:
        return float(text)
    # Bytes; validate=True so stray characters are an error, not silently dropped.
    return base64.b64decode(text.encode("ascii"), validate=True)


# --------------------------------------------------------------------------
# Graph nodes
# --------------------------------------------------------------------------


class BaseNode(_Model):
    """Fields every node has.

    ``source_location`` is absent for nodes with no code of their own (e.g.
    implicit lookups). ``control_dependency`` points at the ``IfNode``/
    ``ElseNode`` whose branch produced this node.
    """

    id: LineaID
    session_id: LineaID = Field(repr=False)
    node_type: NodeType = Field(NodeType.Node, repr=False)
    source_location: Optional[SourceLocation] = Field(None, repr=False)
    control_dependency: Optional[LineaID] = None

    @field_validator("node_type", mode="before")
    @classmethod
    def _node_type_by_name_or_value(cls, v: Any) -> Any:
        return _coerce_enum(NodeType, v)

    def __lt__(self, other: object) -> bool:
        """Ties in topological order break by source position, unlocated first."""
        if not isinstance(other, BaseNode):
            return NotImplemented
        if not other.source_location:
            return False
        if not self.source_location:
            return True
        return self.source_location < other.source_location

    def parents(self) -> Iterable[LineaID]:
        """Ids of the nodes this node depends on: the graph's edges."""
        if self.control_dependency:
            yield self.control_dependency


class ImportNode(BaseNode):
    """An imported module; ``version``/``package_name``/``path`` are filled at
    runtime, and ``package_name`` may differ from the import name (e.g. sklearn
    vs scikit-learn)."""

    node_type: Literal[NodeType.ImportNode] = Field(NodeType.ImportNode, repr=False)
    name: str
    version: Optional[str] = None
    package_name: Optional[str] = None
    path: Optional[str] = None


class PositionalArgument(_Model):
    id: LineaID
    starred: bool = False


class KeywordArgument(_Model):
    key: str
    value: LineaID
    starred: bool = False


class CallNode(BaseNode):
    """A function call; ``function_id`` is the node holding the callee."""

    node_type: Literal[NodeType.CallNode] = Field(NodeType.CallNode, repr=False)
    function_id: LineaID
    positional_args: List[PositionalArgument] = []
    keyword_args: List[KeywordArgument] = []
    # Globals that must be set before the call, by variable name.
    global_reads: Dict[str, LineaID] = {}
    implicit_dependencies: List[LineaID] = []

    def parents(self) -> Iterable[LineaID]:
        yield from super().parents()
        yield self.function_id
        yield from (arg.id for arg in self.positional_args)
        yield from (arg.value for arg in self.keyword_args)
        yield from self.global_reads.values()
        yield from self.implicit_dependencies


class LiteralNode(BaseNode):
    node_type: Literal[NodeType.LiteralNode] = Field(NodeType.LiteralNode, repr=False)
    # Any, not a union: pydantic would coerce (True -> 1, b"" -> "") otherwise.
    value: Any

    @field_validator("value", mode="before")
    @classmethod
    def _literal_value(cls, v: Any) -> Any:
        # A dict is never a literal, so it can only be encode_literal() output
        # (e.g. from model_dump(mode="json") or a stored node).
        if isinstance(v, Mapping) and "value_type" in v:
            return decode_literal(v)
        get_type_of_literal_value(v)
        return v

    @field_serializer("value", when_used="json")
    def _literal_value_json(self, v: Any) -> Dict[str, str]:
        # JSON has no bytes/Ellipsis/NaN and may lose big ints; keep it exact.
        return encode_literal(v)


class LookupNode(BaseNode):
    """A name not defined by traced code: builtins (``int``), ``get_ipython``..."""

    node_type: Literal[NodeType.LookupNode] = Field(NodeType.LookupNode, repr=False)
    name: str


class MutateNode(BaseNode):
    """The value of ``source_id`` after ``call_id`` mutated it; later uses of
    the variable refer to this node instead of the source."""

    node_type: Literal[NodeType.MutateNode] = Field(NodeType.MutateNode, repr=False)
    source_id: LineaID
    call_id: LineaID

    def parents(self) -> Iterable[LineaID]:
        yield from super().parents()
        yield self.source_id
        yield self.call_id


class GlobalNode(BaseNode):
    """Global variable ``name`` as set by a side effect of call ``call_id``."""

    node_type: Literal[NodeType.GlobalNode] = Field(NodeType.GlobalNode, repr=False)
    name: str
    call_id: LineaID

    def parents(self) -> Iterable[LineaID]:
        yield from super().parents()
        yield self.call_id


class ControlFlowNode(BaseNode):
    """Shared part of ``if``/``else`` nodes.

    ``companion_id`` links an ``if`` to its ``else`` and back (LineaPy sets both
    directions, so the two form a 2-cycle in ``parents()``). ``unexec_id`` is a
    LiteralNode holding the code of the branch that did not run, kept so slices
    include it.
    """

    node_type: NodeType = Field(NodeType.Node, repr=False)
    companion_id: Optional[LineaID] = None
    unexec_id: Optional[LineaID] = None

    def parents(self) -> Iterable[LineaID]:
        yield from super().parents()
        if self.companion_id:
            yield self.companion_id
        if self.unexec_id:
            yield self.unexec_id


class IfNode(ControlFlowNode):
    node_type: Literal[NodeType.IfNode] = Field(NodeType.IfNode, repr=False)
    # The CallNode evaluating the condition.
    test_id: LineaID

    def parents(self) -> Iterable[LineaID]:
        yield from super().parents()
        yield self.test_id


class ElseNode(ControlFlowNode):
    node_type: Literal[NodeType.ElseNode] = Field(NodeType.ElseNode, repr=False)
    # Required here (an else always belongs to something); ControlFlowNode's
    # parents() already yields it.
    companion_id: LineaID


ControlNode = Union[IfNode, ElseNode]

NODE_CLASSES: Dict[NodeType, Type[BaseNode]] = {
    NodeType.ImportNode: ImportNode,
    NodeType.CallNode: CallNode,
    NodeType.LiteralNode: LiteralNode,
    NodeType.LookupNode: LookupNode,
    NodeType.MutateNode: MutateNode,
    NodeType.GlobalNode: GlobalNode,
    NodeType.IfNode: IfNode,
    NodeType.ElseNode: ElseNode,
}


def _node_tag(data: Any) -> Optional[str]:
    # A callable discriminator (rather than Field(discriminator=...)) so the
    # tag may be a member, its name or its int value: JSON dumps carry ints,
    # Neo4j labels carry names.
    raw = data.get("node_type") if isinstance(data, Mapping) else getattr(data, "node_type", None)
    node_type = _coerce_enum(NodeType, raw)
    if isinstance(node_type, NodeType) and node_type in NODE_CLASSES:
        return node_type.name
    return None


Node = Annotated[
    Union[
        Annotated[ImportNode, Tag(NodeType.ImportNode.name)],
        Annotated[CallNode, Tag(NodeType.CallNode.name)],
        Annotated[LiteralNode, Tag(NodeType.LiteralNode.name)],
        Annotated[LookupNode, Tag(NodeType.LookupNode.name)],
        Annotated[MutateNode, Tag(NodeType.MutateNode.name)],
        Annotated[GlobalNode, Tag(NodeType.GlobalNode.name)],
        Annotated[IfNode, Tag(NodeType.IfNode.name)],
        Annotated[ElseNode, Tag(NodeType.ElseNode.name)],
    ],
    Discriminator(_node_tag),
]

NODE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Node)


def node_from_dict(data: Mapping[str, Any]) -> BaseNode:
    """Build the node subclass named by ``data["node_type"]``."""
    return NODE_ADAPTER.validate_python(data)


# --------------------------------------------------------------------------
# Values and artifacts
# --------------------------------------------------------------------------


class NodeValue(_Model):
    """A node's value during one execution; ``value`` is the key (LineaPy: the
    pickle file name) under which the serialized value is stored."""

    node_id: LineaID
    execution_id: LineaID
    value: str
    value_type: Optional[ValueType] = None
    # Nullable in LineaPy's table although its pydantic model requires them.
    start_time: Optional[datetime.datetime] = None
    end_time: Optional[datetime.datetime] = None

    @field_validator("value_type", mode="before")
    @classmethod
    def _value_type_by_name(cls, v: Any) -> Any:
        return _coerce_enum(ValueType, v)


class Artifact(_Model):
    """A named, versioned pointer to a node's value in one execution."""

    node_id: LineaID
    execution_id: LineaID
    date_created: datetime.datetime
    name: str
    version: int


class AssignedVariable(_Model):
    """A variable name bound to a node (LineaPy's ``assigned_variable_node`` table)."""

    node_id: LineaID
    assigned_variable: str


class LineaArtifactDef(TypedDict):
    """How users name an artifact; no version means the latest."""

    artifact_name: str
    version: NotRequired[Optional[int]]
