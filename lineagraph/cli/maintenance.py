"""Commands that set up, fill or clean the store: ``info``, ``init``,
``import-lineapy``, ``delete``, ``gc``, and ``completion``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.shell_completion import get_completion_class
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..catalog import collect_garbage
from ..connection import check_connection, describe_server, open_driver
from ..importer import import_lineapy, summarize
from ..schema import ensure_schema
from .app import VERSION, Context, cli, json_option, open_store
from .render import emit_json, err_console, key_value_table, out_console, size


@cli.command("info")
@json_option
@click.pass_obj
def info(obj: Context, as_json):
    """Connect and show which Neo4j lineagraph uses.

    \b
    Example:
      NEO4J_URI=neo4j+s://xxxx.databases.neo4j.io NEO4J_PASSWORD=... lineagraph info
    """
    facts = describe_server(obj.settings())
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        out_console.print(
            f"{facts['name']} {facts['version']} {facts['edition']} at {facts['uri']} "
            f"(database {facts['database']!r})"
        )


@cli.command("init")
@click.pass_obj
def init(obj: Context):
    """Create the store's constraints and indexes (idempotent) and record the schema version.

    \b
    Example:
      lineagraph init
      NEO4J_URI=neo4j+s://xxxx.databases.neo4j.io NEO4J_PASSWORD=... lineagraph init
    """
    settings = obj.settings()
    check_connection(settings)  # a one-line reason (down, TLS, password) in a second
    driver = open_driver(settings)
    try:
        version = ensure_schema(driver, settings.database)
    finally:
        driver.close()
    out_console.print(f"Schema version {version} is in place at {settings}.")


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
    with open_store(obj) as db:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("nodes"), TimeElapsedColumn(), console=err_console,
                      transient=True, disable=as_json) as bar:
            task = bar.add_task("reading", total=None)

            def progress(what: str, done: int, total: int) -> None:
                bar.update(task, description=f"importing {what}", completed=done, total=total)

            report = import_lineapy(
                db, sqlite_path, pickles, progress=progress)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    out_console.print(key_value_table(summarize(report), title=f"Imported {sqlite_path}"))
    for line in report.values_missing:
        err_console.print(f"[yellow]missing pickle:[/yellow] {escape(line)}")
    if report.values_missing and not report.values_imported:
        err_console.print(f"[yellow]No pickle was found in {escape(report.pickles)}: "
                          "is that LineaPy's pickle folder? (--pickles DIR)[/yellow]")
    for line in report.artifact_conflicts:
        err_console.print(f"[yellow]conflict:[/yellow] {escape(line)}")


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
    with open_store(obj) as db:
        count = db.delete_artifact_by_name(name, version)
    out_console.print(f"Deleted {count} version(s) of {name!r}.")


@cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--grace", type=float, default=600.0, show_default=True, metavar="SECONDS",
              help="Keep blobs stored, and large commits begun, more recently than this "
                   "(a writer may be about to commit a value pointing at them, or still "
                   "be writing).")
@json_option
@click.pass_obj
def gc_cmd(obj: Context, dry_run, grace, as_json):
    """Remove blobs on disk that no stored value points at, and what interrupted large
    commits left (never visible: nodes behind a :StagedSession older than --grace).

    \b
    Example:
      lineagraph gc --dry-run
      lineagraph gc --grace 0
    """
    with open_store(obj) as db:
        abandoned = db.abandoned_commits(grace, remove=not dry_run)
        keys, freed = collect_garbage(db, dry_run, grace)
    if as_json:
        emit_json({"removed": [] if dry_run else keys, "unreferenced": keys,
                   "bytes": freed, "dry_run": dry_run,
                   "abandoned_commits": [{"session_id": a["id"], "nodes": a["nodes"],
                                          "age_seconds": a["age"]} for a in abandoned]})
        return
    verb = "Would remove" if dry_run else "Removed"
    out_console.print(f"{verb} {len(keys)} unreferenced blob(s), {size(freed) or '0 B'}.")
    if abandoned:
        nodes = sum(a["nodes"] for a in abandoned)
        out_console.print(f"{verb} {len(abandoned)} interrupted commit(s) of session(s) "
                          f"{', '.join(a['id'] for a in abandoned)} ({nodes:,} unpublished "
                          "node(s)).")


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell):
    """Print the shell completion script for SHELL.

    \b
    Example:
      eval "$(lineagraph completion bash)"          # in ~/.bashrc
      lineagraph completion fish > ~/.config/fish/completions/lineagraph.fish
    """
    completer = get_completion_class(shell)(cli, {}, "lineagraph", "_LINEAGRAPH_COMPLETE")
    click.echo(completer.source())
