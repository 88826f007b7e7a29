"""``lineagraph neo4j ...``: the managed local Neo4j server."""

from __future__ import annotations

import sys

import click

from ..errors import ConfigurationError
from ..server import ServerStatus
from .app import Context, cli, json_option
from .render import key_value_table, notify, out_console

NOT_RUNNING_EXIT = 3  # as LSB `status` does


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
        notify(f"Neo4j is already running at {status.bolt_uri}.")
        if any((heap, pagecache, bolt_port, http_port, backend)):
            notify("Its settings were not changed: stop it first to apply --heap, "
                   "--pagecache, ports or --backend.")
    print_status(status)


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
        print_status(status)
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


def print_status(status: ServerStatus) -> None:
    state = "[green]running[/green]" if status.running else "[red]stopped[/red]"
    out_console.print(key_value_table([
        ("state", state),
        ("backend", status.backend), ("version", status.version),
        ("bolt", status.bolt_uri), ("http", status.http_uri),
        ("browser", status.browser_url), ("pid", status.pid),
        ("container", status.container), ("user", status.user),
        ("password file", status.password_file), ("data directory", status.data_dir),
    ], pad_edge=False))
