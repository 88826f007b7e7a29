"""Ids, the enums of LineaPy's types, and the models' common base."""

from __future__ import annotations

import os
from enum import Enum, auto
from typing import (
    Any,
    NewType,
    Type,
    TypeVar,
)

from pydantic import (
    BaseModel,
    ConfigDict,
)




LineaID = NewType("LineaID", str)


# random bytes for ids, drawn 512 ids at a time: ``str(uuid.uuid4())`` asks the kernel
# for 16 bytes per id (6.4 us an id, measured with timeit; this takes 2.3 us), and a
# recording makes an id for every node
_RANDOM: list[str] = []
os.register_at_fork(after_in_child=_RANDOM.clear)  # a forked child draws its own


def get_new_id() -> LineaID:
    """A fresh id, a random (version 4) UUID as ``str(uuid.uuid4())`` writes it: random
    ids need no coordination to be unique."""
    try:
        h = _RANDOM.pop()
    except IndexError:
        data = os.urandom(16 * 512).hex()
        _RANDOM.extend([data[i:i + 32] for i in range(0, len(data), 32)])
        h = _RANDOM.pop()
    # version 4 in the 13th digit, the RFC 4122 variant (8, 9, a or b) in the 17th
    return LineaID(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}"
                   f"{h[17:20]}-{h[20:]}")


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
