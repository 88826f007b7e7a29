"""Reading a LineaPy 0.2.x database (``db.sqlite``) and checking it whole.

The SQLite file is read with the standard library only (neither LineaPy nor SQLAlchemy
is needed), in one snapshot; dangling references and rows that are not valid LineaPy
data stop the import before anything is written, naming the first ten.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from . import lineapy_rows as rows_to_models
from .errors import ImportError_
from .lineapy_rows import when
from .mapping import brief, check_keys
from .models import SourceCode
from .store import parse_artifact_version, validate

# alembic revisions of LineaPy's schema that this importer understands
KNOWN_SCHEMA_VERSIONS = {"07d0db31e15f": "LineaPy 0.2.x"}
REQUIRED_TABLES = {
    "node", "call_node", "literal_assign_node", "lookup", "import_node", "mutate_node",
    "global_node", "positional_arg", "keyword_arg", "global_reference",
    "implicit_dependency", "session_context", "source_code", "execution", "artifact",
    "node_value", "assigned_variable_node",
}
OPTIONAL_NODE_TABLES = {"if_node", "else_node"}
# Tables we do not import; their rows are counted in the report, never dropped silently.
SKIPPED_TABLES = ["pipeline", "artifact_to_pipeline", "dependency",
                  "dependency_to_artifact_table", "mlflow_artifact_storage"]


@dataclass
class LineapyDb:
    """The LineaPy database, read whole into plain rows (ids are strings)."""

    nodes: dict[str, dict] = field(default_factory=dict)
    sessions: list[dict] = field(default_factory=list)
    executions: dict[str, dict] = field(default_factory=dict)
    source_codes: dict[str, dict] = field(default_factory=dict)
    positional: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    keyword: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    global_reads: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    implicit: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    variables: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    artifacts: list[dict] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)
    # the models _check_rows built from the rows, which the import then writes
    codes: dict[str, SourceCode] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    skipped_tables: dict[str, int] = field(default_factory=dict)
    # the store's checks passed, with what they built: node rows, by node id
    checked_rows: dict[str, dict] = field(default_factory=dict)

    @property
    def links(self) -> dict[str, dict[str, list]]:
        """The rows a call node links to, by table, then by call id."""
        return {"positional_arg": self.positional, "keyword_arg": self.keyword,
                "global_reference": self.global_reads, "implicit_dependency": self.implicit}


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise ImportError_(f"{path} does not exist or is not a file")
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise ImportError_(f"{path} is not a SQLite database")
    # a file: URI built by pathlib, so '#' or '?' in a name cannot change the mode
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    return conn


def _rows(conn: sqlite3.Connection, table: str, order: str = "rowid") -> list[dict]:
    # table names come from the fixed sets above, never from input
    cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}')
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def read_lineapy_db(path: Path) -> LineapyDb:
    """Read and check a LineaPy database; raise ImportError_ naming what is wrong."""
    conn = _open(path)
    try:
        try:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as err:
            raise ImportError_(f"{path} is not a readable SQLite database: {err}") from None
        missing = sorted(REQUIRED_TABLES - tables)
        if missing:
            raise ImportError_(
                f"{path} is not a LineaPy database: tables {', '.join(missing)} are missing"
            )
        if "alembic_version" in tables:
            versions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            unknown = [v for v in versions if v not in KNOWN_SCHEMA_VERSIONS]
            if unknown or not versions:
                raise ImportError_(
                    f"{path} has LineaPy schema version {', '.join(unknown) or '(none)'}, "
                    f"which this importer does not know (known: "
                    f"{', '.join(f'{k} = {v}' for k, v in KNOWN_SCHEMA_VERSIONS.items())})"
                )
        else:
            raise ImportError_(f"{path} has no alembic_version table: cannot tell which "
                               "LineaPy schema wrote it")
        db = LineapyDb()
        try:
            conn.execute("BEGIN")  # one consistent snapshot, even while LineaPy writes
            _load(conn, tables, db)
        except sqlite3.DatabaseError as err:
            raise ImportError_(f"{path} could not be read as LineaPy's schema: {err}") from None
        _check_references(db, path)
        _check_rows(db, path)
        return db
    finally:
        conn.close()


def _load(conn: sqlite3.Connection, tables: set[str], db: LineapyDb) -> None:
    for row in _rows(conn, "node"):
        db.nodes[row["id"]] = row
    for table in [t for t in rows_to_models.SUBTYPE_TABLES
                  if t not in OPTIONAL_NODE_TABLES or t in tables]:
        for row in _rows(conn, table):
            node = db.nodes.get(row["id"])
            if node is None:
                raise ImportError_(f"{table} row {row['id']!r} has no row in table node")
            node.update({k: v for k, v in row.items() if k != "id"})
    db.sessions = _rows(conn, "session_context", "creation_time, rowid")
    db.executions = {r["id"]: r for r in _rows(conn, "execution")}
    db.source_codes = {r["id"]: r for r in _rows(conn, "source_code")}
    for row in _rows(conn, "positional_arg", '"index", rowid'):
        db.positional[row["call_node_id"]].append(row)
    for row in _rows(conn, "keyword_arg"):
        db.keyword[row["call_node_id"]].append(row)
    for row in _rows(conn, "global_reference"):
        db.global_reads[row["call_node_id"]].append(row)
    for row in _rows(conn, "implicit_dependency", '"index", rowid'):
        db.implicit[row["call_node_id"]].append(row)
    for row in _rows(conn, "assigned_variable_node"):
        db.variables[row["id"]].append(row["variable_name"])
    db.artifacts = _rows(conn, "artifact", "name, version, rowid")
    db.values = _rows(conn, "node_value")
    for table in SKIPPED_TABLES:
        if table in tables:
            db.skipped_tables[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def _check_references(db: LineapyDb, path: Path) -> None:
    """Every id a row points at must exist: dangling references stop the import."""
    problems: list[str] = []

    def need(kind: str, ident: Any, where: str, pool: dict) -> None:
        if ident is not None and ident not in pool:
            problems.append(f"{where} points at {kind} {ident!r}, which does not exist")

    sessions = {s["id"]: s for s in db.sessions}
    for node in db.nodes.values():
        where = f"node {node['id']} ({node['node_type']})"
        need("session", node["session_id"], where, sessions)
        need("source_code", node.get("source_code_id"), where, db.source_codes)
        for key in ("function_id", "source_id", "call_id", "test_id", "companion_id",
                    "unexec_id", "control_dependency"):
            need("node", node.get(key), where, db.nodes)
    for table, rows in (("positional_arg", db.positional), ("keyword_arg", db.keyword),
                        ("implicit_dependency", db.implicit)):
        for call_id, args in rows.items():
            need("node", call_id, table, db.nodes)
            for arg in args:
                need("node", arg["arg_node_id"], f"{table} of call {call_id}", db.nodes)
    for call_id, refs in db.global_reads.items():
        need("node", call_id, "global_reference", db.nodes)
        for ref in refs:
            need("node", ref["variable_node_id"], f"global_reference of call {call_id}",
                 db.nodes)
    for session in db.sessions:
        need("execution", session["execution_id"], f"session {session['id']}", db.executions)
    for row in db.artifacts:
        where = f"artifact {row['name']!r} version {row['version']}"
        need("node", row["node_id"], where, db.nodes)
        need("execution", row["execution_id"], where, db.executions)
    for row in db.values:
        where = f"node_value of node {row['node_id']}"
        need("node", row["node_id"], where, db.nodes)
        need("execution", row["execution_id"], where, db.executions)
    for node_id in db.variables:
        need("node", node_id, "assigned_variable_node", db.nodes)
    _refuse(path, problems, "dangling reference(s)")


def _refuse(path: Path, problems: list[str], what: str) -> None:
    """Stop the import before anything is written, listing the first ten problems."""
    if not problems:
        return
    shown = "\n  ".join(problems[:10])
    more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
    raise ImportError_(
        f"{path} has {len(problems)} {what}; nothing was imported:\n  {shown}{more}"
    )


def _why(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                         for e in err.errors()[:3])
    return f"{type(err).__name__}: {err}"[:300]


def _check_rows(db: LineapyDb, path: Path) -> None:
    """Every row becomes a valid model the store accepts, before anything is written, so
    a crafted or damaged database is refused whole, naming its bad rows. The checks are
    the store's own (``lineagraph.store.validate``), run once: what they build is kept
    in ``db`` and the import hands it to ``write_session`` as checked."""
    problems: list[str] = []

    def check(where: str, build: Callable[[], Any]) -> Any:
        try:
            return build()
        except Exception as err:  # any conversion failure is a bad row, named below
            problems.append(f"{where}: {_why(err)}")
            return None

    codes = db.codes

    def source_code(row):
        code = rows_to_models.source_code(row)
        validate.check_source_code(code)
        return code

    for cid, row in db.source_codes.items():
        code = check(f"source_code {brief(cid)}", lambda row=row: source_code(row))
        if code is not None:
            codes[cid] = code
    for row in db.executions.values():
        check(f"execution {brief(row['id'])}",
              lambda row=row: validate.check_execution(rows_to_models.execution(row)))
    for row in db.sessions:
        check(f"session {brief(row['id'])}",
              lambda row=row: validate.check_context(rows_to_models.session(row)))
    built = []
    links = db.links
    for row in db.nodes.values():
        try:  # the message is built only for a row that fails (100,000 of them: 0.3 s)
            built.append((row, rows_to_models.node(row, links, codes)))
        except Exception as err:  # any conversion failure is a bad row, named here
            problems.append(f"node {brief(row['id'])} ({brief(row.get('node_type'))}): "
                            f"{_why(err)}")
    try:  # all at once (one pass over their text); node by node to name each offender
        checked = validate.check_nodes([node for _, node in built])
    except Exception:  # noqa: BLE001 - whatever check_node refuses, named below
        checked = [check(f"node {brief(row['id'])} ({brief(row.get('node_type'))})",
                         lambda node=node: validate.check_node(node)) for row, node in built]
    for (_, node), node_row in zip(built, checked):
        if node_row is not None:
            db.checked_rows[node.id] = node_row
            db.models[node.id] = node
    for node_id, names in db.variables.items():
        for name in names:
            if not isinstance(name, str):
                problems.append(f"assigned_variable_node of node {brief(node_id)}: the "
                                f"variable name is {type(name).__name__} {brief(name)}, "
                                "not text")
    for row in db.artifacts:
        def artifact(row=row):
            check_keys("artifact", name=row["name"], node_id=row["node_id"],
                       execution_id=row["execution_id"])
            parse_artifact_version(row["version"])
            validate.check_artifact(rows_to_models.artifact(row))
        check(f"artifact {brief(row['name'])} version {brief(row['version'])}", artifact)
    for row in db.values:
        check(f"node_value of node {row['node_id']!r}",
              lambda row=row: (when(row["start_time"]), when(row["end_time"])))
    _refuse(path, problems, "row(s) that are not valid LineaPy data")
