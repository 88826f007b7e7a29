"""Import LineaPy 0.2.x databases (``db.sqlite`` + a folder of pickles).

Reads the SQLite file with the standard library only (neither LineaPy nor SQLAlchemy is
needed), checks it whole before writing anything, then writes one session per commit:
a session is either entirely in the store or not at all, so an interrupted import is
resumed by running it again. Importing the same file twice changes nothing: sessions
already complete are skipped, nodes and values are merged by id, and an artifact whose
name and version exist with the same node and execution is skipped; with other content
it is reported as a conflict and never overwritten.
"""

from __future__ import annotations

import datetime
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ValidationError

from .errors import ImportError_, LineagraphError, NotFoundError, StoreUnavailableError
from .models import (
    Artifact,
    CallNode,
    ElseNode,
    Execution,
    GlobalNode,
    IfNode,
    ImportNode,
    JupyterCell,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    MutateNode,
    NodeValue,
    PositionalArgument,
    SessionContext,
    SessionType,
    SourceCode,
    SourceLocation,
)
from .mapping import brief, check_datetimes, check_keys, check_text, node_to_row
from .store import GraphLineaDB, parse_artifact_version

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


class ImportReport(BaseModel):
    """What an import did."""

    source: str
    pickles: str = ""
    sessions_imported: int = 0
    sessions_skipped: int = 0
    nodes_imported: int = 0
    edges_imported: int = 0
    artifacts_imported: int = 0
    artifacts_skipped: int = 0
    artifact_conflicts: list[str] = []
    values_imported: int = 0
    values_skipped: int = 0
    values_missing: list[str] = []
    variables_imported: int = 0
    skipped_tables: dict[str, int] = {}
    seconds: float = 0.0

    @property
    def nodes_per_second(self) -> float:
        return self.nodes_imported / self.seconds if self.seconds else 0.0


@dataclass
class _Db:
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


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise ImportError_(f"{path} does not exist or is not a file")
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise ImportError_(f"{path} is not a SQLite database")
    # a file: URI built by pathlib, so '#' or '?' in a name cannot change the mode
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _rows(conn: sqlite3.Connection, table: str, order: str = "rowid") -> list[dict]:
    # table names come from the fixed sets above, never from input
    return [dict(r) for r in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}')]


def read_lineapy_db(path: Path) -> _Db:
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
        db = _Db()
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


def _load(conn: sqlite3.Connection, tables: set[str], db: _Db) -> None:
    for row in _rows(conn, "node"):
        db.nodes[row["id"]] = row
    subtype_tables = [("call_node", "CallNode"), ("literal_assign_node", "LiteralNode"),
                      ("lookup", "LookupNode"), ("import_node", "ImportNode"),
                      ("mutate_node", "MutateNode"), ("global_node", "GlobalNode")]
    subtype_tables += [(t, {"if_node": "IfNode", "else_node": "ElseNode"}[t])
                       for t in sorted(OPTIONAL_NODE_TABLES & tables)]
    for table, _kind in subtype_tables:
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


def _check_references(db: _Db, path: Path) -> None:
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


def _check_rows(db: _Db, path: Path) -> None:
    """Every row becomes a valid model the store accepts, before anything is written, so
    a crafted or damaged database is refused whole, naming its bad rows. The checks are
    the store's own (the write_* methods run them again)."""
    problems: list[str] = []

    def check(where: str, build: Callable[[], Any]) -> Any:
        try:
            return build()
        except Exception as err:  # any conversion failure is a bad row, named below
            problems.append(f"{where}: {_why(err)}")
            return None

    codes = db.codes

    def source_code(row):
        check_keys("source_code", id=row["id"])
        return _source_code(row)

    for cid, row in db.source_codes.items():
        code = check(f"source_code {brief(cid)}", lambda row=row: source_code(row))
        if code is not None:
            codes[cid] = code
    for row in db.executions.values():
        check(f"execution {brief(row['id'])}",
              lambda row=row: (check_keys("execution", id=row["id"]),
                               Execution(id=row["id"], timestamp=_when(row["timestamp"]))))
    for row in db.sessions:
        check(f"session {brief(row['id'])}",
              lambda row=row: (check_keys("session", id=row["id"],
                                          execution_id=row["execution_id"]), _session(row)))
    for row in db.nodes.values():
        def build(row=row):
            node = _node(row, db, codes)
            check_keys("node", id=node.id, session_id=node.session_id,
                       **({"name": node.name} if isinstance(node, ImportNode) else {}))
            check_text(f"node {row['id']!r}", [node_to_row(node)])
            db.models[node.id] = node
        check(f"node {brief(row['id'])} ({brief(row.get('node_type'))})", build)
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
            made = Artifact(node_id=row["node_id"], execution_id=row["execution_id"],
                            name=row["name"], version=row["version"],
                            date_created=_when(row["date_created"]))
            check_datetimes(made, "date_created")
        check(f"artifact {brief(row['name'])} version {brief(row['version'])}", artifact)
    for row in db.values:
        check(f"node_value of node {row['node_id']!r}",
              lambda row=row: (_when(row["start_time"]), _when(row["end_time"])))
    _refuse(path, problems, "row(s) that are not valid LineaPy data")


# -- rows to models ------------------------------------------------------------------------
def _when(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


def _literal(value_type: str | None, text: str) -> Any:
    """LineaPy's get_literal_value_from_string, for the types it writes."""
    if value_type == "Integer":
        return int(text)
    if value_type == "Float":
        return float(text)
    if value_type == "Boolean":
        return text == "True"
    if value_type == "NoneType":
        return None
    if value_type == "Ellipsis":
        return ...
    if value_type in ("String", None):
        return text
    raise ImportError_(f"literal of unknown value_type {value_type!r}")


def _source_code(row: dict) -> SourceCode:
    if row["path"] is not None:
        location: Path | JupyterCell = Path(row["path"])
    else:
        location = JupyterCell(execution_count=row["jupyter_execution_count"],
                               session_id=row["jupyter_session_id"])
    return SourceCode(id=row["id"], code=row["code"] or "", location=location)


def _session(row: dict) -> SessionContext:
    return SessionContext(
        id=row["id"], environment_type=SessionType[row["environment_type"]],
        python_version=row["python_version"] or "",
        creation_time=_when(row["creation_time"]),
        working_directory=row["working_directory"] or "",
        session_name=row["session_name"], user_name=row["user_name"],
        hardware_spec=row.get("hardware_spec"), execution_id=row["execution_id"],
    )


def _node(row: dict, db: _Db, codes: dict[str, SourceCode]):
    base: dict[str, Any] = {"id": row["id"], "session_id": row["session_id"],
                            "control_dependency": row.get("control_dependency")}
    if row.get("source_code_id") is not None:
        base["source_location"] = SourceLocation(
            lineno=row["lineno"], col_offset=row["col_offset"], end_lineno=row["end_lineno"],
            end_col_offset=row["end_col_offset"], source_code=codes[row["source_code_id"]])
    kind = row["node_type"]
    if kind == "CallNode":
        return CallNode(
            **base, function_id=row["function_id"],
            positional_args=[PositionalArgument(id=a["arg_node_id"], starred=bool(a["starred"]))
                             for a in db.positional.get(row["id"], [])],
            keyword_args=[KeywordArgument(key=a["name"], value=a["arg_node_id"],
                                          starred=bool(a["starred"]))
                          for a in db.keyword.get(row["id"], [])],
            global_reads={g["variable_name"]: g["variable_node_id"]
                          for g in db.global_reads.get(row["id"], [])},
            implicit_dependencies=[a["arg_node_id"] for a in db.implicit.get(row["id"], [])],
        )
    if kind == "LiteralNode":
        return LiteralNode(**base, value=_literal(row.get("value_type"), row["value"]))
    if kind == "ImportNode":
        return ImportNode(**base, name=row["name"], version=row.get("version"),
                          package_name=row.get("package_name"), path=row.get("path"))
    if kind == "LookupNode":
        return LookupNode(**base, name=row["name"])
    if kind == "MutateNode":
        return MutateNode(**base, source_id=row["source_id"], call_id=row["call_id"])
    if kind == "GlobalNode":
        return GlobalNode(**base, name=row["name"], call_id=row["call_id"])
    if kind == "IfNode":
        return IfNode(**base, test_id=row["test_id"], companion_id=row.get("companion_id"),
                      unexec_id=row.get("unexec_id"))
    if kind == "ElseNode":
        return ElseNode(**base, companion_id=row["companion_id"],
                        unexec_id=row.get("unexec_id"))
    raise ImportError_(f"node {row['id']!r} has unknown node_type {kind!r}")


# -- the import ------------------------------------------------------------------------------
def default_pickle_dir(sqlite_path: Path) -> Path:
    """LineaPy keeps pickles in ``linea_pickles`` beside ``db.sqlite``; our fixtures and
    copies made by hand often say ``pickles``."""
    for name in ("linea_pickles", "pickles"):
        if (sqlite_path.parent / name).is_dir():
            return sqlite_path.parent / name
    return sqlite_path.parent / "linea_pickles"

Progress = Callable[[str, int, int], None]  # (what, done, total)


def import_lineapy(
    db: GraphLineaDB,
    sqlite_path: Path | str,
    pickles: Path | str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a LineaPy database into ``db``; see the module docstring for guarantees."""
    started = time.perf_counter()
    path = Path(sqlite_path)
    pickle_dir = Path(pickles) if pickles is not None else default_pickle_dir(path)
    source = read_lineapy_db(path)
    report = ImportReport(source=str(path), pickles=str(pickle_dir), skipped_tables={
        k: v for k, v in source.skipped_tables.items() if v})
    db.ensure_schema()

    by_session: dict[str, list[dict]] = defaultdict(list)
    for node in source.nodes.values():
        by_session[node["session_id"]].append(node)
    node_session = {n["id"]: n["session_id"] for n in source.nodes.values()}
    artifacts_by_session: dict[str, list[dict]] = defaultdict(list)
    for row in source.artifacts:
        artifacts_by_session[node_session[row["node_id"]]].append(row)
    values_by_session: dict[str, list[dict]] = defaultdict(list)
    for row in source.values:
        values_by_session[node_session[row["node_id"]]].append(row)

    total_nodes = len(source.nodes)
    done_nodes = 0
    for session in source.sessions:
        sid = session["id"]
        nodes = by_session.get(sid, [])
        if progress:
            progress(f"session {sid[:8]}", done_nodes, total_nodes)
        if _session_complete(db, sid, len(nodes)):
            report.sessions_skipped += 1
        else:
            _import_session(db, source, session, nodes, report)
            report.sessions_imported += 1
        _import_values_and_artifacts(db, source, values_by_session.get(sid, []),
                                     artifacts_by_session.get(sid, []), pickle_dir, report)
        done_nodes += len(nodes)
        if progress:
            progress(f"session {sid[:8]}", done_nodes, total_nodes)
    report.seconds = time.perf_counter() - started
    return report


def _session_complete(db: GraphLineaDB, session_id: str, node_count: int) -> bool:
    rows = db._read("importer.session_import_state", session_id=session_id)
    return bool(rows) and rows[0]["complete"] and rows[0]["nodes"] == node_count


def _import_session(db: GraphLineaDB, source: _Db, session: dict, nodes: list[dict],
                    report: ImportReport) -> None:
    """One commit: the session, its code, nodes, edges and variables, or nothing."""
    used = {n.get("source_code_id") for n in nodes}
    codes = {cid: source.codes[cid] for cid, row in source.source_codes.items()
             if row["jupyter_session_id"] == session["id"] or cid in used}
    execution = source.executions[session["execution_id"]]
    db.write_execution(Execution(id=execution["id"], timestamp=_when(execution["timestamp"])))
    db.write_context(_session(session))
    for code in codes.values():
        db.write_source_code(code)
    edges = 0
    for row in nodes:
        node = source.models[row["id"]]  # built and checked by read_lineapy_db
        db.write_node(node)
        edges += len(list(node.parents()))
    variables = 0
    for row in nodes:
        for name in source.variables.get(row["id"], []):
            db.write_assigned_variable(row["id"], name)
            variables += 1
    try:
        stats = db.commit()
    except StoreUnavailableError as err:
        raise StoreUnavailableError(
            f"session {session['id']} could not be imported: {err}. Run the import again "
            "once Neo4j answers: sessions already imported are skipped") from None
    except LineagraphError as err:
        raise ImportError_(f"session {session['id']} could not be imported: {err}") from None
    db._write("importer.mark_session_complete", session_id=session["id"], nodes=len(nodes))
    report.nodes_imported += stats.nodes
    report.edges_imported += stats.edges
    report.variables_imported += variables


def _import_values_and_artifacts(db: GraphLineaDB, source: _Db, values: list[dict],
                                 artifacts: list[dict], pickle_dir: Path,
                                 report: ImportReport) -> None:
    executions = {a["execution_id"] for a in artifacts} | {v["execution_id"] for v in values}
    for eid in sorted(executions):
        row = source.executions[eid]
        db.write_execution(Execution(id=row["id"], timestamp=_when(row["timestamp"])))
    for row in values:
        # only a file name, looked up in the pickle folder: "../x" or "/etc/x" in a
        # crafted database cannot reach elsewhere, nor can a symlink in the folder
        pickle = pickle_dir / Path(str(row["value"])).name
        if not pickle.is_file():
            report.values_missing.append(f"{row['value']} (node {row['node_id']})")
            continue
        if not pickle.resolve().is_relative_to(pickle_dir.resolve()):
            report.values_missing.append(
                f"{row['value']} (node {row['node_id']}): a link to {pickle.resolve()}, "
                f"outside {pickle_dir}; not copied")
            continue
        info = db.blobs.put_file(pickle)
        stored = db.get_node_value_from_db(row["node_id"], row["execution_id"])
        if stored is not None and stored.value == info.key:
            report.values_skipped += 1
            continue
        db.write_node_value(NodeValue(
            node_id=row["node_id"], execution_id=row["execution_id"], value=info.key,
            value_type=row["value_type"], start_time=_when(row["start_time"]),
            end_time=_when(row["end_time"])))
        report.values_imported += 1
    for row in artifacts:
        artifact = Artifact(node_id=row["node_id"], execution_id=row["execution_id"],
                            name=row["name"], version=row["version"],
                            date_created=_when(row["date_created"]))
        try:
            existing = db.get_artifact_by_name(artifact.name, artifact.version)
        except NotFoundError:
            existing = None
        if existing is None:
            db.write_artifact(artifact)
            report.artifacts_imported += 1
        elif (existing.node_id, existing.execution_id) == (artifact.node_id,
                                                           artifact.execution_id):
            report.artifacts_skipped += 1
        else:
            report.artifact_conflicts.append(
                f"{artifact.name!r} version {artifact.version}: the store has node "
                f"{existing.node_id}, the import has node {artifact.node_id}; kept the store's")
    try:
        db.commit()
    except StoreUnavailableError as err:
        raise StoreUnavailableError(
            f"values and artifacts could not be imported: {err}. Run the import again once "
            "Neo4j answers") from None
    except LineagraphError as err:
        raise ImportError_(f"values and artifacts could not be imported: {err}") from None


def summarize(report: ImportReport) -> Iterable[tuple[str, str]]:
    yield "sessions", f"{report.sessions_imported} imported, {report.sessions_skipped} already there"
    yield "nodes", str(report.nodes_imported)
    yield "dependencies", str(report.edges_imported)
    yield "variables", str(report.variables_imported)
    yield "values", (f"{report.values_imported} imported, {report.values_skipped} already "
                     f"there, {len(report.values_missing)} missing")
    yield "artifacts", (f"{report.artifacts_imported} imported, {report.artifacts_skipped} "
                        f"already there, {len(report.artifact_conflicts)} conflicts")
    for table, rows in report.skipped_tables.items():
        yield f"skipped {table}", f"{rows} rows (not imported)"
    yield "time", f"{report.seconds:.2f} s ({report.nodes_per_second:,.0f} nodes/s)"
