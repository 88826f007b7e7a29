"""Ids, the enums of LineaPy's types, and the models' common base."""

from __future__ import annotations

from enum import Enum, auto
from typing import (
    Any,
    NewType,
    Type,
    TypeVar,
)
from uuid import uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
)




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


def coerce_enum(enum_cls: Type[_E], raw: Any) -> Any:
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


class Model(BaseModel):
    # Unknown keys are almost always typos in a property name; fail loudly.
    model_config = ConfigDict(extra="forbid")
