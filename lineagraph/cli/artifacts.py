"""``lineagraph artifacts``, ``artifact`` and ``value``: the catalog of artifacts."""

from __future__ import annotations

import reprlib
from pathlib import Path

import click
from rich.table import Table

from ..artifacts import artifact_details, artifact_pickle, artifact_value
from ..catalog import list_artifacts
from ..pickletype import short_name
from .app import Context, cli, json_option, one_version, open_store, version_option
from .render import emit_json, key_value_table, out_console, size, type_label


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
    with open_store(obj) as db:
        infos = list_artifacts(db, name, session_id)
    if as_json:
        emit_json([i.model_dump(mode="json") for i in infos])
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
        value = f"{short_name(i.python_type) or '?'} {size(i.value_size)}" if i.blob else "-"
        table.add_row(i.name, str(i.version), i.date_created.strftime("%Y-%m-%d %H:%M:%S"),
                      i.node_type, i.session_id[:8], value)
    out_console.print(table)


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
    with open_store(obj) as db:
        details = artifact_details(db, name, one_version(version))
    info, line = details.info, details.source_line
    if as_json:
        emit_json({**info.model_dump(mode="json"), "source_line": line})
        return
    out_console.print(key_value_table([
        ("created", info.date_created.isoformat(sep=" ")), ("node", info.node_id),
        ("node type", info.node_type), ("session", info.session_id),
        ("execution", info.execution_id),
        ("value", f"{type_label(info.python_type)}, {size(info.value_size)}"
         if info.blob else "not stored"),
        ("LineaPy type", info.value_type),  # LineaPy's category: array, dataset, ...
        ("blob", info.blob or "-"), ("code", line or "-"),
    ], title=f"{info.name} version {info.version}"))


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
    wanted = one_version(version)
    with open_store(obj) as db:
        if output is not None:
            pickle = artifact_pickle(db, name, wanted)
        else:
            loaded = artifact_value(db, name, wanted)
    if output is not None:
        output.write_bytes(pickle.data)
        out_console.print(f"Wrote {size(len(pickle.data))} (sha256 {pickle.key}) to {output}.")
        return
    value = loaded.value
    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = 400
    out_console.print(f"{name} version {loaded.artifact.version} ({type(value).__module__}."
                      f"{type(value).__qualname__}):", markup=False)
    out_console.print(shown.repr(value), markup=False)
