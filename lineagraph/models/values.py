"""Node values (pickled, in the blob store) and artifacts (named, versioned values)."""

from __future__ import annotations

import datetime
from typing import (
    Any,
    Optional,
)

from pydantic import (
    field_validator,
)
from typing_extensions import NotRequired, TypedDict

from .base import LineaID, ValueType, Model, coerce_enum



# --------------------------------------------------------------------------
# Values and artifacts
# --------------------------------------------------------------------------


class NodeValue(Model):
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
        return coerce_enum(ValueType, v)


class Artifact(Model):
    """A named, versioned pointer to a node's value in one execution."""

    node_id: LineaID
    execution_id: LineaID
    date_created: datetime.datetime
    name: str
    version: int


class AssignedVariable(Model):
    """A variable name bound to a node (LineaPy's ``assigned_variable_node`` table)."""

    node_id: LineaID
    assigned_variable: str


class LineaArtifactDef(TypedDict):
    """How users name an artifact; no version means the latest."""

    artifact_name: str
    version: NotRequired[Optional[int]]
