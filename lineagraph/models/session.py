"""Sessions, executions and source code (where nodes are located)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import (
    Any,
    Optional,
    Union,
)

from pydantic import (
    Field,
    field_validator,
)

from .base import LineaID, SessionType, Model, coerce_enum



# --------------------------------------------------------------------------
# Sessions, executions, source code
# --------------------------------------------------------------------------


class Execution(Model):
    """One Python interpreter run, during which node values were recorded."""

    id: LineaID
    timestamp: Optional[datetime.datetime] = None


class SessionContext(Model):
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
        return coerce_enum(SessionType, v)


class JupyterCell(Model):
    # nbformat's execution_count of the cell
    execution_count: int
    session_id: LineaID


SourceCodeLocation = Union[Path, JupyterCell]


class SourceCode(Model):
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


class SourceLocation(Model):
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
