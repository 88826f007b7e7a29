"""``lineagraph sessions`` and ``session``: what LineaPy recorded, session by session."""

from __future__ import annotations

import click
from rich.syntax import Syntax
from rich.table import Table

from ..catalog import list_sessions, session_details
from .app import Context, cli, json_option, open_store
from .render import emit_json, out_console


@cli.command("sessions")
@json_option
@click.pass_obj
def sessions_cmd(obj: Context, as_json):
    """List sessions: id, kind, Python, creation time, nodes and artifacts.

    \b
    Example:
      lineagraph sessions --json
    """
    with open_store(obj) as db:
        infos = list_sessions(db)
    if as_json:
        emit_json([i.model_dump(mode="json") for i in infos])
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
    with open_store(obj) as db:
        details = session_details(db, session_id)
    if as_json:
        emit_json(details)
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
