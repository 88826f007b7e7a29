"""A whole recorded session as one model: what ``GraphLineaDB.write_session`` writes."""

from __future__ import annotations

from typing import Dict, List, Optional

from pydantic import PrivateAttr

from .base import LineaID, Model
from .nodes import Node
from .session import Execution, SessionContext, SourceCode
from .values import Artifact, NodeValue


class SessionGraph(Model):
    """A session's context and execution, its source code, nodes, assigned variables,
    node values (``NodeValue.value`` is the key of a blob in the store's blob store:
    ``GraphLineaDB.save_value`` puts one there) and artifacts.

    ``executions`` holds executions other than the session's own that values or
    artifacts point at. The store checks a graph once and keeps what the checks built;
    build a new graph rather than changing one that was written."""

    context: SessionContext
    execution: Execution
    executions: List[Execution] = []
    source_codes: List[SourceCode] = []
    nodes: List[Node] = []
    variables: Dict[LineaID, List[str]] = {}
    values: List[NodeValue] = []
    artifacts: List[Artifact] = []

    _rows: Optional[list] = PrivateAttr(default=None)

    def all_executions(self) -> list[Execution]:
        """The session's execution first, then the others (each once)."""
        found = {self.execution.id: self.execution}
        for execution in self.executions:
            found.setdefault(execution.id, execution)
        return list(found.values())

    def checked_rows(self) -> Optional[list]:
        """The node rows the store's checks built, or None when not checked yet."""
        return self._rows

    def mark_checked(self, rows: list) -> None:
        self._rows = rows
