"""The lineage nodes; ``parents()`` on each defines the graph's edges, as in LineaPy."""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Type,
    Union,
)

from pydantic import (
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    field_serializer,
    field_validator,
)

from .base import LineaID, NodeType, Model, coerce_enum
from .literals import decode_literal, encode_literal, get_type_of_literal_value
from .session import SourceLocation



# --------------------------------------------------------------------------
# Graph nodes
# --------------------------------------------------------------------------


class BaseNode(Model):
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
        return coerce_enum(NodeType, v)

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


class PositionalArgument(Model):
    id: LineaID
    starred: bool = False


class KeywordArgument(Model):
    key: str
    value: LineaID
    starred: bool = False


class CallNode(BaseNode):
    """A function call; ``function_id`` is the node holding the callee."""

    node_type: Literal[NodeType.CallNode] = Field(NodeType.CallNode, repr=False)
    function_id: LineaID
    # default_factory: a literal [] default is deep-copied into every instance (a
    # quarter of building 100,000 nodes read from the store)
    positional_args: List[PositionalArgument] = Field(default_factory=list)
    keyword_args: List[KeywordArgument] = Field(default_factory=list)
    # Globals that must be set before the call, by variable name.
    global_reads: Dict[str, LineaID] = Field(default_factory=dict)
    implicit_dependencies: List[LineaID] = Field(default_factory=list)

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


# each node class's own type and tag (a model whose node_type is its class's answers at
# once; a changed one is tagged by its node_type, as any other input)
_CLASS_TAGS: Dict[type, tuple[NodeType, str]] = {
    cls: (t, t.name) for t, cls in NODE_CLASSES.items()}


def _node_tag(data: Any) -> Optional[str]:
    # A callable discriminator (rather than Field(discriminator=...)) so the
    # tag may be a member, its name or its int value: JSON dumps carry ints,
    # Neo4j labels carry names. A node model answers by its class at once (building a
    # SessionGraph of 100,000 imported nodes took 0.20 s, 0.08 s with this).
    own = _CLASS_TAGS.get(type(data))
    if own is not None and data.node_type is own[0]:
        return own[1]
    raw = data.get("node_type") if isinstance(data, Mapping) else getattr(data, "node_type", None)
    node_type = coerce_enum(NodeType, raw)
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
