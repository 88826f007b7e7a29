"""``lineagraph slice``, ``lineage``, ``impact``, ``uses`` and ``export``: what an
artifact was computed from, what depends on what, and the subgraphs behind them."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from .. import lineage
from ..catalog import export_session, export_slice
from ..recorder.pinning import pin_gets
from ..slicing import get_program_slice
from .app import (VERSION, Context, cli, json_option, one_version, open_store,
                  version_option)
from .render import emit_json, out_console


@cli.command("slice")
@click.argument("names", metavar="NAME...", nargs=-1, required=True)
@click.option("--version", "version", type=VERSION, default="latest", show_default=True,
              help="A version number or 'latest' (for every NAME).")
@click.option("--keep-save", is_flag=True, help="Keep the lineapy.save(...) calls.")
@click.option("--show-left-out", is_flag=True,
              help="Show the lines left out of the slice as comments.")
@click.option("--notebook", is_flag=True,
              help="As a notebook (.ipynb JSON): the imports, then one cell per source "
                   "cell that contributes. Needs lineagraph[notebook].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the code to FILE.")
@click.pass_obj
def slice_cmd(obj: Context, names, version, keep_save, show_left_out, notebook, output):
    """Print the smallest code that recomputes one or more artifacts (LineaPy's slice).

    \b
    Example:
      lineagraph slice model
      lineagraph slice model metrics --keep-save -o pipeline.py
      lineagraph slice nb_short --notebook -o slice.ipynb
    """
    wanted = [(name, one_version(version)) for name in names]
    with open_store(obj) as db:
        code = get_program_slice(
            db, wanted, keep_lineapy_save=keep_save, show_left_out=show_left_out)
        pin_gets(db, code)  # a recorded get(name) reads the version it read
    if notebook:
        try:
            text = code.notebook_text()
        except ImportError as err:
            raise click.ClickException(str(err)) from None
        if output is None:
            click.echo(text)
        else:
            output.write_text(text, encoding="utf-8")
            out_console.print(f"Wrote the slice of {', '.join(names)} as a notebook "
                              f"({len(code.node_ids)} nodes, "
                              f"{len(json.loads(text)['cells'])} cells) to {output}.")
        return
    text = str(code)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out_console.print(f"Wrote the slice of {', '.join(names)} ({len(code.node_ids)} "
                          f"nodes, {text.count(chr(10))} lines) to {output}.")


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
    if (name is None) == (node_id is None):
        raise click.UsageError("give an artifact NAME or --node ID (one of them)")
    walk = lineage.upstream if upstream else lineage.downstream
    artifact = None if name is None else (name, one_version(version))
    with open_store(obj) as db:
        nodes = walk(db, artifact=artifact, node_id=node_id, depth=depth)
    if as_json:
        emit_json([n.model_dump() for n in nodes])
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
    with open_store(obj) as db:
        found = lineage.impact(db, node_id)
    if as_json:
        emit_json([a.model_dump(mode="json") for a in found])
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
    with open_store(obj) as db:
        usage = lineage.library_usage(db, library, library_version)
    if as_json:
        emit_json(usage.model_dump(mode="json"))
        return
    label = library + (f" {library_version}" if library_version else "")
    out_console.print(f"{label}: {len(usage.sessions)} session(s), "
                      f"{len(usage.artifacts)} artifact(s)", markup=False)
    for sid in usage.sessions:
        out_console.print(f"  session {sid}", markup=False)
    for a in usage.artifacts:
        out_console.print(f"  artifact {a.name} version {a.version}", markup=False)


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
    if (session_id is None) == (artifact_name is None):
        raise click.UsageError("give --session ID or --artifact NAME (one of them)")
    with open_store(obj) as db:
        if session_id is not None:
            data = export_session(db, session_id)
        else:
            data = export_slice(
                db, artifact_name, one_version(version))
    text = json.dumps(data, indent=2, default=str)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        out_console.print(f"Wrote {len(data['nodes'])} nodes and {len(data['edges'])} edges "
                          f"to {output}.")


