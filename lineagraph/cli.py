"""The ``lineagraph`` command: a thin layer over the library.

Each command builds what it needs from the options or the standard ``NEO4J_*``
variables, calls one library function, and turns a LineagraphError into a one-line
message and a meaningful exit code (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .connection import check_connection, open_driver, resolve_settings, server_info
from .errors import ConfigurationError, LineagraphError
from .config import home_dir as config_home
from .server import ManagedServer

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

NOT_RUNNING_EXIT = 3  # as LSB `status` does


class Context:
    def __init__(self, uri, username, password_file, database, home, debug):
        self.uri = uri
        self.username = username
        self.password_file = password_file
        self.database = database
        self.home = home
        self.debug = debug

    def settings(self):
        password = None
        if self.password_file is not None:
            password = Path(self.password_file).read_text(encoding="utf-8").strip()
        return resolve_settings(
            uri=self.uri, username=self.username, password=password,
            database=self.database, notify=_notify,
        )

    def server(self, **kwargs) -> ManagedServer:
        return ManagedServer(home=self.home, notify=_notify, **kwargs)


class _Version(click.ParamType):
    """An artifact version by LineaPy's rules: an int >= 0, 'latest' or 'all'."""

    name = "VERSION"

    def convert(self, value, param, ctx):
        from .store import parse_artifact_version

        try:
            return parse_artifact_version(value)
        except ValueError as err:
            self.fail(str(err).splitlines()[0], param, ctx)


VERSION = _Version()

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
version_option = click.option("--version", "version", type=VERSION, default="latest",
                              show_default=True, help="A version number or 'latest'.")


def _notify(message: str) -> None:
    err_console.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lineagraph")
@click.option("--uri", envvar="NEO4J_URI", metavar="URI",
              help="Neo4j to use (bolt://, neo4j://, neo4j+s://...). [env: NEO4J_URI] "
                   "Default: lineagraph's local server, started on first use.")
@click.option("--username", envvar="NEO4J_USERNAME", metavar="NAME",
              help="Neo4j user. [env: NEO4J_USERNAME; default: neo4j]")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE",
              help="Read the Neo4j password from FILE. [else env: NEO4J_PASSWORD] "
                   "There is no --password: a password on a command line is visible to "
                   "every user of the machine.")
@click.option("--database", envvar="NEO4J_DATABASE", metavar="NAME",
              help="Neo4j database. [env: NEO4J_DATABASE; default: neo4j]")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              envvar="LINEAGRAPH_HOME",
              help="Per-user data directory (local server, blobs). [env: LINEAGRAPH_HOME]")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx, uri, username, password_file, database, home, debug):
    """lineagraph: a lineage store for Python computations, on Neo4j.

    \b
    Example:
      lineagraph neo4j start      # start the local Neo4j (first run downloads it)
      lineagraph info             # which server, version and database we use
    """
    ctx.obj = Context(uri, username, password_file, database, home, debug)


# -- neo4j ------------------------------------------------------------------------------
@cli.group("neo4j")
def neo4j_group():
    """Manage the local Neo4j server (used when NEO4J_URI is not set).

    \b
    Example:
      lineagraph neo4j start
      lineagraph neo4j status --json
      lineagraph neo4j stop
    """


def _backend_option(f):
    return click.option(
        "--backend", type=click.Choice(["auto", "java", "docker"]), default=None,
        help="auto (Docker where the engine, compose and the Neo4j image are all "
             "there, else Java), java or docker. "
             "[env: LINEAGRAPH_NEO4J_BACKEND]")(f)


@neo4j_group.command("start")
@_backend_option
@click.option("--heap", metavar="SIZE", help="JVM heap, e.g. 512m. [env: LINEAGRAPH_NEO4J_HEAP]")
@click.option("--pagecache", metavar="SIZE",
              help="Page cache, e.g. 512m. [env: LINEAGRAPH_NEO4J_PAGECACHE]")
@click.option("--bolt-port", type=int, metavar="PORT",
              help="Preferred Bolt port (default 7687; a free one if taken). "
                   "[env: LINEAGRAPH_BOLT_PORT]")
@click.option("--http-port", type=int, metavar="PORT",
              help="Preferred HTTP/Browser port (default 7474; a free one if taken). "
                   "[env: LINEAGRAPH_HTTP_PORT]")
@click.option("--timeout", type=float, default=180.0, show_default=True,
              help="Seconds to wait for the server to answer.")
@click.pass_obj
def neo4j_start(obj: Context, backend, heap, pagecache, bolt_port, http_port, timeout):
    """Start the local Neo4j (harmless when it already runs).

    \b
    Example:
      lineagraph neo4j start --heap 1g
    """
    server = obj.server(backend=backend, heap=heap, pagecache=pagecache,
                        bolt_port=bolt_port, http_port=http_port)
    status = server.start(timeout=timeout)
    if server.already_running:
        _notify(f"Neo4j is already running at {status.bolt_uri}.")
        if any((heap, pagecache, bolt_port, http_port, backend)):
            _notify("Its settings were not changed: stop it first to apply --heap, "
                    "--pagecache, ports or --backend.")
    _print_status(status)


@neo4j_group.command("stop")
@click.pass_obj
def neo4j_stop(obj: Context):
    """Stop the local Neo4j cleanly; its data is kept.

    \b
    Example:
      lineagraph neo4j stop
    """
    server = obj.server()
    if server.stop():
        out_console.print(f"Stopped the local Neo4j (data kept in {server.state.root}).")
    else:
        out_console.print("The local Neo4j is not running.")


@neo4j_group.command("status")
@json_option
@click.pass_obj
def neo4j_status(obj: Context, as_json):
    """Show backend, version, URIs, pid and data directory. Exit 3 when stopped.

    \b
    Example:
      lineagraph neo4j status
      lineagraph neo4j status --json | jq -r .bolt_uri
    """
    status = obj.server().status()
    if as_json:
        click.echo(status.model_dump_json(indent=2))
    else:
        _print_status(status)
    sys.exit(0 if status.running else NOT_RUNNING_EXIT)


@neo4j_group.command("password")
@click.pass_obj
def neo4j_password(obj: Context):
    """Print the local server's generated password (only when you ask).

    \b
    Example:
      NEO4J_PASSWORD=$(lineagraph neo4j password) cypher-shell -a bolt://127.0.0.1:7687
    """
    server = obj.server()
    password = server.state.password()
    if password is None:
        raise ConfigurationError(
            f"no password yet in {server.state.password_file}: run `lineagraph neo4j start`"
        )
    click.echo(password)


def _print_status(status) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("state", "[green]running[/green]" if status.running else "[red]stopped[/red]")
    for label, value in [
        ("backend", status.backend), ("version", status.version),
        ("bolt", status.bolt_uri), ("http", status.http_uri),
        ("browser", status.browser_url), ("pid", status.pid),
        ("container", status.container), ("user", status.user),
        ("password file", status.password_file), ("data directory", status.data_dir),
    ]:
        if value is not None:
            table.add_row(label, str(value))
    out_console.print(table)


# -- info -------------------------------------------------------------------------------
@cli.command("info")
@json_option
@click.pass_obj
def info(obj: Context, as_json):
    """Connect and show which Neo4j lineagraph uses.

    \b
    Example:
      NEO4J_URI=neo4j+s://xxxx.databases.neo4j.io NEO4J_PASSWORD=... lineagraph info
    """
    settings = obj.settings()
    check_connection(settings)
    driver = open_driver(settings)
    try:
        facts = server_info(driver, settings)
    finally:
        driver.close()
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        out_console.print(
            f"{facts['name']} {facts['version']} {facts['edition']} at {facts['uri']} "
            f"(database {facts['database']!r})"
        )


# -- init -------------------------------------------------------------------------------
@cli.command("init")
@click.pass_obj
def init(obj: Context):
    """Create the store's constraints and indexes (idempotent) and record the schema version.

    \b
    Example:
      lineagraph init
      NEO4J_URI=neo4j+s://xxxx.databases.neo4j.io NEO4J_PASSWORD=... lineagraph init
    """
    from .schema import ensure_schema

    settings = obj.settings()
    driver = open_driver(settings)
    try:
        version = _translated(settings, lambda: ensure_schema(driver, settings.database))
    finally:
        driver.close()
    out_console.print(f"Schema version {version} is in place at {settings}.")


def _translated(settings, action):
    """Run ``action``; driver errors become one-line StoreUnavailableErrors."""
    from neo4j import exceptions as neo4j_errors

    from .connection import translate

    try:
        return action()
    except (neo4j_errors.DriverError, neo4j_errors.Neo4jError) as err:
        raise translate(err, settings) from None


# -- import-lineapy ----------------------------------------------------------------------
@cli.command("import-lineapy")
@click.argument("sqlite_path", metavar="PATH", type=click.Path(path_type=Path))
@click.option("--pickles", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder of LineaPy's pickles. [default: linea_pickles (LineaPy's own "
                   "layout) or pickles beside PATH]")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_lineapy_cmd(obj: Context, sqlite_path, pickles, as_json):
    """Import a LineaPy database: sessions, graphs, artifacts and pickled values.

    Idempotent and resumable: run it again after an interruption, or after LineaPy
    recorded more sessions, and only what is missing is added. An artifact whose name
    and version exist with other content is reported as a conflict, never overwritten.

    \b
    Example:
      lineagraph import-lineapy ~/.lineapy/db.sqlite --pickles ~/.lineapy/linea_pickles
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .importer import import_lineapy, summarize

    with _store(obj) as db:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("nodes"), TimeElapsedColumn(), console=err_console,
                      transient=True, disable=as_json) as bar:
            task = bar.add_task("reading", total=None)

            def progress(what: str, done: int, total: int) -> None:
                bar.update(task, description=f"importing {what}", completed=done, total=total)

            report = _translated(db_settings(obj), lambda: import_lineapy(
                db, sqlite_path, pickles, progress=progress))
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    table = Table(title=f"Imported {sqlite_path}", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for label, value in summarize(report):
        table.add_row(label, value)
    out_console.print(table)
    for line in report.values_missing:
        err_console.print(f"[yellow]missing pickle:[/yellow] {escape(line)}")
    if report.values_missing and not report.values_imported:
        err_console.print(f"[yellow]No pickle was found in {escape(report.pickles)}: "
                          "is that LineaPy's pickle folder? (--pickles DIR)[/yellow]")
    for line in report.artifact_conflicts:
        err_console.print(f"[yellow]conflict:[/yellow] {escape(line)}")


def db_settings(obj: Context):
    return obj._settings


class _store:
    """Open a GraphLineaDB for one command; close (and commit) at the end."""

    def __init__(self, obj: Context):
        self.obj = obj

    def __enter__(self):
        from .store import GraphLineaDB

        settings = self.obj.settings()
        self.obj._settings = settings
        check_connection(settings)  # fail in a second, not after the driver's retries
        blobs = (self.obj.home or config_home()) / "blobs"
        self.db = GraphLineaDB(open_driver(settings), database=settings.database, blobs=blobs,
                               owns_driver=True)
        return self.db

    def __exit__(self, *exc):
        return self.db.__exit__(*exc)


# -- catalog: artifacts, values, sessions ---------------------------------------------------


def _one_version(version):
    if version == "all":
        raise click.BadParameter("takes one version (a number or 'latest'), not 'all'",
                                 param_hint="--version")
    return None if version == "latest" else version


def _emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@cli.command("artifacts")
@click.option("--name", metavar="NAME", help="Only versions of this artifact.")
@click.option("--session", "session_id", metavar="ID", help="Only artifacts of this session.")
@json_option
@click.pass_obj
def artifacts_cmd(obj: Context, name, session_id, as_json):
    """List artifacts: name, version, date, node type, session and value.

    \b
    Example:
      lineagraph artifacts
      lineagraph artifacts --name model --json
    """
    from .catalog import list_artifacts

    with _store(obj) as db:
        infos = _translated(db_settings(obj), lambda: list_artifacts(db, name, session_id))
    if as_json:
        _emit_json([i.model_dump(mode="json") for i in infos])
        return
    if not infos:
        out_console.print("No artifacts." + (" (filters: " + ", ".join(
            f"{k}={v}" for k, v in (("name", name), ("session", session_id)) if v) + ")"
            if name or session_id else ""))
        return
    table = Table(title=f"{len(infos)} artifact(s)")
    table.add_column("name", overflow="fold")
    table.add_column("version", justify="right")
    table.add_column("created", no_wrap=True)
    for column in ("node", "session", "value"):
        table.add_column(column)
    for i in infos:
        value = f"{i.value_type or '?'} {_size(i.value_size)}" if i.blob else "-"
        table.add_row(i.name, str(i.version), i.date_created.strftime("%Y-%m-%d %H:%M:%S"),
                      i.node_type, i.session_id[:8], value)
    out_console.print(table)


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@cli.command("artifact")
@click.argument("name")
@version_option
@json_option
@click.pass_obj
def artifact_cmd(obj: Context, name, version, as_json):
    """Show one artifact: node, session, execution, value type and size, date, code line.

    \b
    Example:
      lineagraph artifact model
      lineagraph artifact model --version 2 --json
    """
    from .catalog import artifact_info, node_source_line

    with _store(obj) as db:
        info = _translated(db_settings(obj), lambda: artifact_info(db, name, _one_version(version)))
        line = _translated(db_settings(obj), lambda: node_source_line(db, info.node_id))
    if as_json:
        _emit_json({**info.model_dump(mode="json"), "source_line": line})
        return
    table = Table(show_header=False, box=None, title=f"{info.name} version {info.version}")
    table.add_column(style="bold")
    table.add_column()
    for label, value in [
        ("created", info.date_created.isoformat(sep=" ")), ("node", info.node_id),
        ("node type", info.node_type), ("session", info.session_id),
        ("execution", info.execution_id),
        ("value", f"{info.value_type or 'unknown type'}, {_size(info.value_size)}"
         if info.blob else "not stored"),
        ("blob", info.blob or "-"), ("code", line or "-"),
    ]:
        table.add_row(label, value)
    out_console.print(table)


@cli.command("value")
@click.argument("name")
@version_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the pickle to FILE instead of loading it.")
@click.pass_obj
def value_cmd(obj: Context, name, version, output):
    """Show an artifact's value (a short repr), or write its pickle out.

    The blob's sha256 is checked first; a blob changed on disk is refused. Showing a
    value unpickles it, which runs code: do it only for values you trust. -o writes the
    verified pickle without unpickling it.

    \b
    Example:
      lineagraph value model
      lineagraph value model --version 0 -o model.pkl
    """
    import reprlib

    with _store(obj) as db:
        artifact = _translated(db_settings(obj),
                               lambda: db.get_artifact_by_name(name, _one_version(version)))
        key = db.get_node_value_path(artifact.node_id, artifact.execution_id)
        if output is not None:
            data = db.blobs.get_bytes(key)
            output.write_bytes(data)
            out_console.print(f"Wrote {_size(len(data))} (sha256 {key}) to {output}.")
            return
        try:
            value = db.blobs.load_value(key)
        except (ModuleNotFoundError, AttributeError) as err:
            raise LineagraphError(
                f"cannot load {name!r} version {artifact.version} here: {err}; "
                "use -o FILE to write the pickle out instead"
            ) from None
    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = 400
    out_console.print(f"{name} version {artifact.version} ({type(value).__module__}."
                      f"{type(value).__qualname__}):", markup=False)
    out_console.print(shown.repr(value), markup=False)


@cli.command("sessions")
@json_option
@click.pass_obj
def sessions_cmd(obj: Context, as_json):
    """List sessions: id, kind, Python, creation time, nodes and artifacts.

    \b
    Example:
      lineagraph sessions --json
    """
    from .catalog import list_sessions

    with _store(obj) as db:
        infos = _translated(db_settings(obj), lambda: list_sessions(db))
    if as_json:
        _emit_json([i.model_dump(mode="json") for i in infos])
        return
    if not infos:
        out_console.print("No sessions.")
        return
    table = Table(title=f"{len(infos)} session(s)")
    table.add_column("id", overflow="fold", min_width=36)
    for column in ("kind", "python"):
        table.add_column(column)
    table.add_column("created", no_wrap=True)
    for column in ("nodes", "artifacts"):
        table.add_column(column, justify="right")
    table.add_column("directory", overflow="fold")
    for i in infos:
        s = i.session
        table.add_row(s.id, s.environment_type.name, s.python_version,
                      s.creation_time.strftime("%Y-%m-%d %H:%M:%S"), str(i.nodes),
                      str(i.artifacts), s.working_directory)
    out_console.print(table)


@cli.command("session")
@click.argument("session_id", metavar="ID")
@json_option
@click.pass_obj
def session_cmd(obj: Context, session_id, as_json):
    """Show a session: its source, libraries, variables and artifacts.

    \b
    Example:
      lineagraph session 6293df9e-71b0-41e6-8340-64c725b05818
    """
    from rich.syntax import Syntax

    from .catalog import session_details

    with _store(obj) as db:
        details = _translated(db_settings(obj), lambda: session_details(db, session_id))
    if as_json:
        _emit_json(details)
        return
    s = details["session"]
    out_console.print(f"[bold]Session {s['id']}[/bold] ({s['environment_type']}, Python "
                      f"{s['python_version']}, created {s['creation_time']}, in "
                      f"{s['working_directory']})")
    out_console.print(Syntax(details["source"], "python", line_numbers=True))
    out_console.print("[bold]Libraries:[/bold] " + (", ".join(
        f"{lib['package_name'] or lib['name']} {lib['version'] or ''}".strip()
        for lib in details["libraries"]) or "none"))
    out_console.print("[bold]Variables:[/bold] " + (", ".join(sorted(
        {v["name"] for v in details["variables"]})) or "none"))
    out_console.print("[bold]Artifacts:[/bold] " + (", ".join(
        f"{a['name']} v{a['version']}" for a in details["artifacts"]) or "none"))


@cli.command("delete")
@click.argument("name")
@click.option("--version", "version", type=VERSION, required=True,
              help="A version number, 'latest' or 'all'.")
@click.pass_obj
def delete_cmd(obj: Context, name, version):
    """Delete an artifact version, its latest version, or all of them.

    Values no artifact uses any more are deleted too, with their blobs.

    \b
    Example:
      lineagraph delete model --version latest
      lineagraph delete scratch --version all
    """
    with _store(obj) as db:
        count = _translated(db_settings(obj), lambda: db.delete_artifact_by_name(name, version))
    out_console.print(f"Deleted {count} version(s) of {name!r}.")


@cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--grace", type=float, default=600.0, show_default=True, metavar="SECONDS",
              help="Keep blobs stored more recently than this (a writer may be about to "
                   "commit a value pointing at them).")
@json_option
@click.pass_obj
def gc_cmd(obj: Context, dry_run, grace, as_json):
    """Remove blobs on disk that no stored value points at.

    \b
    Example:
      lineagraph gc --dry-run
      lineagraph gc --grace 0
    """
    from .catalog import collect_garbage

    with _store(obj) as db:
        keys, freed = _translated(db_settings(obj),
                                  lambda: collect_garbage(db, dry_run, grace))
    if as_json:
        _emit_json({"removed": [] if dry_run else keys, "unreferenced": keys,
                    "bytes": freed, "dry_run": dry_run})
        return
    verb = "Would remove" if dry_run else "Removed"
    out_console.print(f"{verb} {len(keys)} unreferenced blob(s), {_size(freed) or '0 B'}.")


@cli.command("export")
@click.option("--session", "session_id", metavar="ID", help="Export this session.")
@click.option("--artifact", "artifact_name", metavar="NAME",
              help="Export this artifact's slice: its code and the nodes behind it.")
@click.option("--version", "version", type=VERSION, default="latest", show_default=True,
              help="With --artifact: a version number or 'latest'.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of standard output.")
@click.pass_obj
def export_cmd(obj: Context, session_id, artifact_name, version, output):
    """Export a session's lineage subgraph, or an artifact's slice, as JSON.

    The JSON has "nodes" (LineaPy's fields) and "edges" (source, type, target,
    properties), which graph tools such as networkx can read.

    \b
    Example:
      lineagraph export --session 6293df9e-71b0-41e6-8340-64c725b05818 -o session.json
      lineagraph export --artifact model -o model-slice.json
    """
    from .catalog import export_session, export_slice

    if (session_id is None) == (artifact_name is None):
        raise click.UsageError("give --session ID or --artifact NAME (one of them)")
    with _store(obj) as db:
        if session_id is not None:
            data = _translated(db_settings(obj), lambda: export_session(db, session_id))
        else:
            data = _translated(db_settings(obj), lambda: export_slice(
                db, artifact_name, _one_version(version)))
    text = json.dumps(data, indent=2, default=str)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        out_console.print(f"Wrote {len(data['nodes'])} nodes and {len(data['edges'])} edges "
                          f"to {output}.")


# -- slice --------------------------------------------------------------------------------
@cli.command("slice")
@click.argument("names", metavar="NAME...", nargs=-1, required=True)
@click.option("--version", "version", type=VERSION, default="latest", show_default=True,
              help="A version number or 'latest' (for every NAME).")
@click.option("--keep-save", is_flag=True, help="Keep the lineapy.save(...) calls.")
@click.option("--show-left-out", is_flag=True,
              help="Show the lines left out of the slice as comments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the code to FILE.")
@click.pass_obj
def slice_cmd(obj: Context, names, version, keep_save, show_left_out, output):
    """Print the smallest code that recomputes one or more artifacts (LineaPy's slice).

    \b
    Example:
      lineagraph slice model
      lineagraph slice model metrics --keep-save -o pipeline.py
    """
    from .slicing import get_program_slice

    wanted = [(name, _one_version(version)) for name in names]
    with _store(obj) as db:
        code = _translated(db_settings(obj), lambda: get_program_slice(
            db, wanted, keep_lineapy_save=keep_save, show_left_out=show_left_out))
    text = str(code)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out_console.print(f"Wrote the slice of {', '.join(names)} ({len(code.node_ids)} "
                          f"nodes, {text.count(chr(10))} lines) to {output}.")


# -- lineage ------------------------------------------------------------------------------
@cli.command("lineage")
@click.argument("name", required=False)
@version_option
@click.option("--node", "node_id", metavar="ID", help="Start from a node id instead.")
@click.option("--upstream/--downstream", default=True,
              help="What it was computed from (default), or what was computed from it.")
@click.option("--depth", type=click.IntRange(min=0), metavar="N",
              help="At most N dependency steps away. [default: no limit]")
@json_option
@click.pass_obj
def lineage_cmd(obj: Context, name, version, node_id, upstream, depth, as_json):
    """Show what an artifact was computed from, or what was computed from it.

    \b
    Example:
      lineagraph lineage model --upstream --depth 2
      lineagraph lineage --node 3f8700f6-0dba-4421-9350-a988a57f1e3b --downstream --json
    """
    from . import lineage

    if (name is None) == (node_id is None):
        raise click.UsageError("give an artifact NAME or --node ID (one of them)")
    walk = lineage.upstream if upstream else lineage.downstream
    artifact = None if name is None else (name, _one_version(version))
    with _store(obj) as db:
        nodes = _translated(db_settings(obj),
                            lambda: walk(db, artifact=artifact, node_id=node_id, depth=depth))
    if as_json:
        _emit_json([n.model_dump() for n in nodes])
        return
    what = f"{name}" if name else f"node {node_id}"
    direction = "upstream of" if upstream else "downstream of"
    table = Table(title=f"{len(nodes)} node(s) {direction} {what}"
                  + (f" within {depth} step(s)" if depth is not None else ""))
    if depth is not None:
        table.add_column("steps", justify="right")
    for column in ("type", "line", "what"):
        table.add_column(column, overflow="fold")
    table.add_column("id", overflow="fold")
    for n in nodes:
        row = [n.node_type, str(n.lineno or ""), n.caption, n.id]
        table.add_row(*([str(n.distance)] if depth is not None else []) + row)
    out_console.print(table)


@cli.command("impact")
@click.argument("node_id", metavar="NODE_ID")
@json_option
@click.pass_obj
def impact_cmd(obj: Context, node_id, as_json):
    """List the artifacts whose value depends on a node (a literal, an import, a call).

    \b
    Example:
      lineagraph impact 84dd954e-8f6f-4bc1-a3fd-371a4c557190
    """
    from . import lineage

    with _store(obj) as db:
        found = _translated(db_settings(obj), lambda: lineage.impact(db, node_id))
    if as_json:
        _emit_json([a.model_dump(mode="json") for a in found])
        return
    if not found:
        out_console.print(f"No artifact depends on node {node_id}.")
    for a in found:
        out_console.print(f"{a.name} version {a.version}", markup=False)


@cli.command("uses")
@click.argument("library")
@click.option("--version", "library_version", metavar="VERSION",
              help="Only this version of the library.")
@json_option
@click.pass_obj
def uses_cmd(obj: Context, library, library_version, as_json):
    """Sessions that import a library, and artifacts computed from it.

    \b
    Example:
      lineagraph uses pandas
      lineagraph uses numpy --version 1.26.4 --json
    """
    from . import lineage

    with _store(obj) as db:
        usage = _translated(db_settings(obj),
                            lambda: lineage.library_usage(db, library, library_version))
    if as_json:
        _emit_json(usage.model_dump(mode="json"))
        return
    label = library + (f" {library_version}" if library_version else "")
    out_console.print(f"{label}: {len(usage.sessions)} session(s), "
                      f"{len(usage.artifacts)} artifact(s)", markup=False)
    for sid in usage.sessions:
        out_console.print(f"  session {sid}", markup=False)
    for a in usage.artifacts:
        out_console.print(f"  artifact {a.name} version {a.version}", markup=False)


# -- browser ----------------------------------------------------------------------------
@cli.command("browser")
@click.option("--open", "open_it", is_flag=True,
              help="Also open the URL in your web browser.")
@click.option("--style", "style_only", is_flag=True,
              help="Print only the :style command that loads lineagraph's style sheet "
                   "(paste it into Browser's editor).")
@json_option
@click.pass_obj
def browser_cmd(obj: Context, open_it, style_only, as_json):
    """Show how to open Neo4j Browser on the store: its URL (connect form filled in, never
    the password), where the password is, and how to load lineagraph's style sheet.

    Exit 3 when the local server is not running.

    \b
    Example:
      lineagraph browser --open
      lineagraph browser --style | xclip -selection clipboard   # then paste in Browser
    """
    import webbrowser

    from .browser import BrowserInfo, browser_url, style_command, style_path
    from .errors import ServerError

    if style_only:
        click.echo(style_command(), nl=False)
        return
    database = obj.database or "neo4j"
    if obj.uri:  # a server we do not manage: its HTTP port and Browser are unknown to us
        settings = obj.settings()
        info = BrowserInfo(
            browser_url=None, connect_url=settings.safe_uri, user=settings.username,
            database=settings.database,
            password_hint="the one you gave lineagraph (NEO4J_PASSWORD or --password-file)",
            style_file=str(style_path()))
    else:
        status = obj.server().status()
        if not status.running:
            raise ServerError("the local Neo4j is not running: start it with "
                              "`lineagraph neo4j start` (or set NEO4J_URI)")
        info = BrowserInfo(
            browser_url=browser_url(status.http_uri, status.bolt_uri, status.user, database),
            connect_url=status.bolt_uri, user=status.user, database=database,
            password_hint=f"in {status.password_file} (`lineagraph neo4j password` prints it)",
            style_file=str(style_path()))
    if as_json:
        _emit_json(info.model_dump())
    else:
        if info.browser_url:
            out_console.print(f"Neo4j Browser: {info.browser_url}", markup=False)
        else:
            out_console.print(f"Neo4j Browser: unknown for {info.connect_url} (lineagraph does "
                              "not manage that server); open its Browser and connect there.",
                              markup=False)
        out_console.print(f"  connect to {info.connect_url} as user {info.user}, database "
                          f"{info.database}; the password is {info.password_hint}",
                          markup=False)
        out_console.print("  style sheet: run `lineagraph browser --style` and paste its output "
                          f"into Browser's editor, or drag {info.style_file} onto Browser",
                          markup=False)
        out_console.print(f"  saved queries: {style_path().parent / 'queries.cypher'}",
                          markup=False)
    if open_it:
        if info.browser_url is None:
            raise ConfigurationError("--open: the Browser URL of that server is unknown")
        if not webbrowser.open(info.browser_url):
            raise ConfigurationError("--open: no web browser could be started here; "
                                     "open the URL above yourself")


# -- completion ---------------------------------------------------------------------------
@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell):
    """Print the shell completion script for SHELL.

    \b
    Example:
      eval "$(lineagraph completion bash)"          # in ~/.bashrc
      lineagraph completion fish > ~/.config/fish/completions/lineagraph.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)(cli, {}, "lineagraph", "_LINEAGRAPH_COMPLETE")
    click.echo(completer.source())


# -- demo -------------------------------------------------------------------------------
@cli.command("demo")
@click.pass_obj
def demo(obj: Context):
    """Import a small LineaPy database shipped with lineagraph, list its artifacts, print
    one slice, and show where to explore the graph in Neo4j Browser.

    Starts the local Neo4j first when NEO4J_URI is not set.

    \b
    Example:
      lineagraph demo
    """
    from .demo import DEMO_ARTIFACT, DEMO_DB
    from .importer import import_lineapy
    from .slicing import get_program_slice

    started = time.monotonic()
    with _store(obj) as db:
        settings = db_settings(obj)
        facts = _translated(settings, lambda: server_info(db.driver, settings))
        out_console.print(f"Connected to {facts['name']} {facts['version']} {facts['edition']} "
                          f"at {facts['uri']} in {time.monotonic() - started:.1f} s.")
        report = _translated(settings, lambda: import_lineapy(db, DEMO_DB))
        out_console.print(f"Imported LineaPy's recording of {DEMO_DB.parent.name}/script.py: "
                          f"{report.sessions_imported} session(s) new, "
                          f"{report.sessions_skipped} already there; "
                          f"{report.artifacts_imported + report.artifacts_skipped} artifacts.")
        session_id = db.get_node_by_id(db.get_artifact_by_name(DEMO_ARTIFACT).node_id).session_id
        table = Table(title="Artifacts of the demo session")
        for column in ("name", "version", "value"):
            table.add_column(column)
        for artifact in db.get_artifacts_for_session(session_id):
            value = db.load_node_value(artifact.node_id, artifact.execution_id)
            table.add_row(artifact.name, str(artifact.version), repr(value))
        out_console.print(table)
        code = _translated(settings, lambda: get_program_slice(db, [DEMO_ARTIFACT]))
        out_console.print(f"The slice of {DEMO_ARTIFACT!r} (the smallest code that recomputes "
                          "it; the copy `snapshot` and the unrelated `colors` are left out):")
        out_console.print(str(code), markup=False, highlight=False)
    if not obj.uri:
        from .browser import browser_url

        status = obj.server().status()
        url = browser_url(status.http_uri, status.bolt_uri, status.user,
                          obj.database or "neo4j")
        out_console.print(f"Neo4j Browser: {url}", markup=False)
        out_console.print(
            f"  connect to {status.bolt_uri} as user {status.user}; the password is in "
            f"{status.password_file} (`lineagraph neo4j password` prints it)"
        )
        out_console.print("  for colours and captions, paste what `lineagraph browser --style` "
                          "prints", markup=False)
    out_console.print("  then paste:", markup=False)
    out_console.print(
        f"  MATCH p = (:Artifact {{name: '{DEMO_ARTIFACT}'}})-[:OF_NODE]->(:Node)-[:CALLS|"
        "POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|"
        "SET_BY*0..]->(:Node) RETURN p", markup=False)


from .recorder.cli import run_command  # noqa: E402  (issue 15: recording)
cli.add_command(run_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, tracebacks only with --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if not debug:  # the driver logs its retries as warnings; our errors say what failed
        logging.getLogger("neo4j").setLevel(logging.ERROR)
    try:
        cli.main(args=args, prog_name="lineagraph", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except LineagraphError as err:
        if debug:  # the traceback, and still the exit code that says what failed
            traceback.print_exc()
            sys.exit(err.exit_code)
        first, *rest = str(err).splitlines() or [type(err).__name__]
        err_console.print(f"[red]error:[/red] {escape(first)}", soft_wrap=True)
        for line in rest:
            err_console.print(line, soft_wrap=True, markup=False)
        sys.exit(err.exit_code)
    except OSError as err:  # a file we were asked to read or write
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
