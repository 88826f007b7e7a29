"""The demo of `lineagraph demo` and `make demo`: a small LineaPy 0.2.3 database shipped
with the package (the recording of ``demo_data/list_mutation_alias/script.py``), imported,
listed and sliced. :func:`run_demo` does it and returns what happened; it prints nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ConnectionSettings
from .connection import server_info
from .importer import ImportReport, import_lineapy
from .queries import queries
from .slicing import get_program_slice
from .store import GraphLineaDB

DEMO_DB = Path(__file__).resolve().parent / "demo_data" / "list_mutation_alias" / "db.sqlite"
DEMO_ARTIFACT = "sorted_scores"


@dataclass(frozen=True)
class DemoArtifact:
    name: str
    version: int
    value: Any


@dataclass(frozen=True)
class DemoReport:
    server: dict  # connection.server_info: name, version, edition, uri, database
    connected_at: float  # time.monotonic() once the server had answered
    imported: ImportReport
    artifacts: list[DemoArtifact]  # every artifact of the demo session, with its value
    slice_code: str  # the slice of DEMO_ARTIFACT


def run_demo(db: GraphLineaDB, settings: ConnectionSettings) -> DemoReport:
    """Import DEMO_DB into ``db`` (harmless when run again), read back its artifacts'
    values and slice DEMO_ARTIFACT."""
    facts = server_info(db.driver, settings)
    connected_at = time.monotonic()
    report = import_lineapy(db, DEMO_DB)
    session_id = db.get_node_by_id(db.get_artifact_by_name(DEMO_ARTIFACT).node_id).session_id
    artifacts = [DemoArtifact(a.name, a.version,
                              db.load_node_value(a.node_id, a.execution_id))
                 for a in db.get_artifacts_for_session(session_id)]
    code = get_program_slice(db, [DEMO_ARTIFACT])
    return DemoReport(facts, connected_at, report, artifacts, str(code))


def browser_query(artifact: str = DEMO_ARTIFACT) -> str:
    """The ``demo.artifact_paths`` query on one line, with ``artifact`` as a Cypher string
    literal in place of ``$artifact``: ready to paste into Neo4j Browser."""
    literal = "'" + artifact.replace("\\", "\\\\").replace("'", "\\'") + "'"
    text = " ".join(line.strip() for line in queries()["demo.artifact_paths"].text.splitlines())
    return text.replace("$artifact", literal)
