"""The ``lineagraph`` command: a thin layer over the library.

Each command builds what it needs from the options or the standard ``NEO4J_*``
variables, calls one library function, and turns a LineagraphError into a one-line
message and a meaningful exit code (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console
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


def _notify(message: str) -> None:
    err_console.print(f"[dim]{message}[/dim]", soft_wrap=True)


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
        help="auto (Docker where an engine answers, else Java), java or docker. "
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
    before = server.status()
    status = server.start(timeout=timeout)
    if before.running:
        _notify(f"Neo4j is already running at {status.bolt_uri}.")
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
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
              help="Folder of LineaPy's pickles. [default: PATH's folder/pickles]")
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
        err_console.print(f"[yellow]missing pickle:[/yellow] {line}")
    for line in report.artifact_conflicts:
        err_console.print(f"[yellow]conflict:[/yellow] {line}")


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
        blobs = (self.obj.home or config_home()) / "blobs"
        self.db = GraphLineaDB(open_driver(settings), database=settings.database, blobs=blobs,
                               owns_driver=True)
        return self.db

    def __exit__(self, *exc):
        return self.db.__exit__(*exc)


# -- demo -------------------------------------------------------------------------------
@cli.command("demo")
@click.pass_obj
def demo(obj: Context):
    """Store the lineage of a tiny script, read it back, and show where to look at it.

    Starts the local Neo4j first when NEO4J_URI is not set.

    \b
    Example:
      lineagraph demo
    """
    from .demo import ARTIFACT_NAME, SCRIPT, record_demo_session
    from .store import GraphLineaDB

    started = time.monotonic()
    settings = obj.settings()
    driver = open_driver(settings)
    try:
        facts = _translated(settings, lambda: server_info(driver, settings))
        out_console.print(
            f"Connected to {facts['name']} {facts['version']} {facts['edition']} at "
            f"{facts['uri']} in {time.monotonic() - started:.1f} s."
        )
        blobs = (obj.home or config_home()) / "blobs"
        db = GraphLineaDB(driver, database=settings.database, blobs=blobs)
        _translated(settings, db.ensure_schema)
        out_console.print("\nThe script whose lineage we record:")
        out_console.print(SCRIPT, markup=False, highlight=False)
        artifact = _translated(settings, lambda: record_demo_session(db))
        stats = db.last_commit
        out_console.print(
            f"Stored {stats.nodes} nodes and {stats.edges} dependencies in one commit "
            f"({stats.statements} statements, {stats.seconds * 1000:.0f} ms)."
        )
        value = db.load_node_value(artifact.node_id, artifact.execution_id)
        out_console.print(
            f"Artifact [bold]{artifact.name}[/bold] version {artifact.version} = {value!r} "
            f"(loaded from the blob store after its sha256 checked out)."
        )
        libraries = db.get_libraries_for_session(db.get_node_by_id(artifact.node_id).session_id)
        out_console.print("Libraries used: " + ", ".join(lib.name for lib in libraries))
    finally:
        driver.close()
    if not obj.uri:
        status = obj.server().status()
        out_console.print(f"\nNeo4j Browser: {status.browser_url}")
        out_console.print(
            f"  connect to {status.bolt_uri} as user {status.user}; the password is in "
            f"{status.password_file} (`lineagraph neo4j password` prints it)"
        )
    out_console.print("  then paste:", markup=False)
    out_console.print(
        f"  MATCH p = (:Artifact {{name: '{ARTIFACT_NAME}'}})-[:OF_NODE]->(:Node)-[*0..]->(:Node) "
        "RETURN p",
        markup=False,
    )


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, tracebacks only with --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
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
        if debug:
            raise
        first, *rest = str(err).splitlines() or [type(err).__name__]
        err_console.print(f"[red]error:[/red] {first}", soft_wrap=True)
        for line in rest:
            err_console.print(line, soft_wrap=True, markup=False)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
