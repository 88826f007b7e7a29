"""A tiny end-to-end example: the lineage of a 4-line script, stored and read back.

The graph is the one LineaPy 0.2.3 records for::

    import math
    radius = 2.0
    area = math.pi * radius ** 2
    lineapy.save(area, "circle_area")
"""

from __future__ import annotations

import datetime
import getpass
import platform
from pathlib import Path

from .models import (
    Artifact,
    CallNode,
    Execution,
    ImportNode,
    LiteralNode,
    LookupNode,
    NodeValue,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
    get_new_id,
)
from .store import GraphLineaDB

SCRIPT = """import math
radius = 2.0
area = math.pi * radius ** 2
lineapy.save(area, "circle_area")
"""
ARTIFACT_NAME = "circle_area"


def record_demo_session(db: GraphLineaDB) -> Artifact:
    """Write the demo session and save its artifact as a new version; return it."""
    now = datetime.datetime.now()
    execution = Execution(id=get_new_id(), timestamp=now)
    session = SessionContext(
        id=get_new_id(), environment_type=SessionType.SCRIPT,
        python_version=platform.python_version(), creation_time=now,
        working_directory=str(Path.cwd()), session_name="lineagraph demo",
        user_name=getpass.getuser(), execution_id=execution.id,
    )
    code = SourceCode(id=get_new_id(), code=SCRIPT, location=Path("demo_circle.py"))

    def at(line: int, col: int, end_col: int) -> SourceLocation:
        return SourceLocation(lineno=line, col_offset=col, end_lineno=line,
                              end_col_offset=end_col, source_code=code)

    sid = session.id
    ids = {name: get_new_id() for name in
           ("math", "getattr", "pi_name", "pi", "radius", "pow", "two", "power", "mul", "area")}
    nodes = [
        ImportNode(id=ids["math"], session_id=sid, name="math", package_name="math",
                   source_location=at(1, 0, 11)),
        LookupNode(id=ids["getattr"], session_id=sid, name="getattr"),
        LiteralNode(id=ids["pi_name"], session_id=sid, value="pi"),
        CallNode(id=ids["pi"], session_id=sid, function_id=ids["getattr"],
                 positional_args=[PositionalArgument(id=ids["math"]),
                                  PositionalArgument(id=ids["pi_name"])],
                 source_location=at(3, 7, 14)),
        LiteralNode(id=ids["radius"], session_id=sid, value=2.0, source_location=at(2, 9, 12)),
        LookupNode(id=ids["pow"], session_id=sid, name="pow"),
        LiteralNode(id=ids["two"], session_id=sid, value=2, source_location=at(3, 27, 28)),
        CallNode(id=ids["power"], session_id=sid, function_id=ids["pow"],
                 positional_args=[PositionalArgument(id=ids["radius"]),
                                  PositionalArgument(id=ids["two"])],
                 source_location=at(3, 17, 28)),
        LookupNode(id=ids["mul"], session_id=sid, name="mul"),
        CallNode(id=ids["area"], session_id=sid, function_id=ids["mul"],
                 positional_args=[PositionalArgument(id=ids["pi"]),
                                  PositionalArgument(id=ids["power"])],
                 source_location=at(3, 7, 28)),
    ]
    db.write_execution(execution)
    db.write_context(session)
    db.write_source_code(code)
    for node in nodes:
        db.write_node(node)
    db.write_assigned_variable(ids["radius"], "radius")
    db.write_assigned_variable(ids["area"], "area")
    import math

    info = db.save_value(math.pi * 2.0**2)
    assert info is not None  # a float always pickles
    db.write_node_value(NodeValue(node_id=ids["area"], execution_id=execution.id,
                                  value=info.key, value_type="value",
                                  start_time=now, end_time=now))
    artifact = Artifact(node_id=ids["area"], execution_id=execution.id, name=ARTIFACT_NAME,
                        version=db.get_latest_artifact_version(ARTIFACT_NAME) + 1,
                        date_created=now)
    db.write_artifact(artifact)
    db.commit()
    return artifact
