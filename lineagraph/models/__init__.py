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

from .base import (LineaID, LiteralType, NodeType, SessionType, ValueType, get_new_id)
from .graph import SessionGraph
from .literals import decode_literal, encode_literal, get_type_of_literal_value
from .nodes import (NODE_ADAPTER, NODE_CLASSES, BaseNode, CallNode, ControlFlowNode,
                    ControlNode, ElseNode, GlobalNode, IfNode, ImportNode, KeywordArgument,
                    LiteralNode, LookupNode, MutateNode, Node, PositionalArgument,
                    node_from_dict)
from .session import (Execution, JupyterCell, SessionContext, SourceCode,
                      SourceCodeLocation, SourceLocation)
from .values import Artifact, AssignedVariable, LineaArtifactDef, NodeValue

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
    "SessionGraph",
]

# A NewType rather than plain str so annotations still say "this is a node id".
