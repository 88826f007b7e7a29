"""The root ``lineagraph`` group, its connection options, and what commands share to
reach the store: the per-invocation Context, ``open_store`` and the version options."""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from .. import __version__
from ..config import ConnectionSettings
from ..config import home_dir as config_home
from ..connection import check_connection, open_driver
from ..environment import resolve_settings
from ..server import ManagedServer
from ..store import GraphLineaDB, parse_artifact_version
from .render import notify


class Context:
    """The root options of one invocation; resolves the settings once, on first use."""

    def __init__(self, uri, username, password_file, database, home, debug):
        self.uri = uri
        self.username = username
        self.password_file = password_file
        self.database = database
        self.home = home
        self.debug = debug
        self._resolved: ConnectionSettings | None = None

    def settings(self) -> ConnectionSettings:
        if self._resolved is None:
            password = None
            if self.password_file is not None:
                password = Path(self.password_file).read_text(encoding="utf-8").strip()
            self._resolved = resolve_settings(
                uri=self.uri, username=self.username, password=password,
                database=self.database, notify=notify,
            )
        return self._resolved

    def server(self, **kwargs) -> ManagedServer:
        return ManagedServer(home=self.home, notify=notify, **kwargs)

    def blobs_dir(self) -> Path:
        return (self.home or config_home()) / "blobs"


@contextmanager
def open_store(obj: Context) -> Iterator[GraphLineaDB]:
    """A GraphLineaDB for one command; committed and closed at the end."""
    settings = obj.settings()
    check_connection(settings)  # fail in a second, not after the driver's retries
    db = GraphLineaDB(open_driver(settings), database=settings.database,
                      blobs=obj.blobs_dir(), owns_driver=True)
    with db:
        yield db


class _Version(click.ParamType):
    """An artifact version by LineaPy's rules: an int >= 0, 'latest' or 'all'."""

    name = "VERSION"

    def convert(self, value, param, ctx):
        try:
            return parse_artifact_version(value)
        except ValueError as err:
            self.fail(str(err).splitlines()[0], param, ctx)


VERSION = _Version()

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
version_option = click.option("--version", "version", type=VERSION, default="latest",
                              show_default=True, help="A version number or 'latest'.")


def one_version(version):
    """The version for a library call that takes one: None for 'latest'."""
    if version == "all":
        raise click.BadParameter("takes one version (a number or 'latest'), not 'all'",
                                 param_hint="--version")
    return None if version == "latest" else version


# Which module of lineagraph.cli registers each command (with @cli.command when imported).
# A command's module is imported when the command runs or help lists it, so `lineagraph
# run` does not import the others (a tenth of a second: rich's tables and syntax
# highlighting, the importer, slicing, the demo). tests/test_cli.py checks the table.
COMMAND_MODULES: dict[str, str] = {
    "artifacts": "artifacts", "artifact": "artifacts", "value": "artifacts",
    "browser": "browser", "demo": "demo",
    "slice": "lineage", "lineage": "lineage", "impact": "lineage", "uses": "lineage",
    "export": "lineage",
    "info": "maintenance", "init": "maintenance", "import-lineapy": "maintenance",
    "delete": "maintenance", "gc": "maintenance", "completion": "maintenance",
    "neo4j": "server", "run": "record", "sessions": "sessions", "session": "sessions",
}


class LazyGroup(click.Group):
    """The root group, importing a command's module when the command is asked for
    (click's documented pattern for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, name: str):
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--debug", is_flag=True,
              help="Show full tracebacks on errors (and the driver's log). Anywhere on the "
                   "line: `lineagraph artifacts --debug` works too.")
@click.pass_context
def cli(ctx, uri, username, password_file, database, home, debug):
    """lineagraph: a lineage store for Python computations, on Neo4j.

    \b
    Example:
      lineagraph neo4j start      # start the local Neo4j (first run downloads it)
      lineagraph info             # which server, version and database we use
    """
    ctx.obj = Context(uri, username, password_file, database, home, debug)
