"""``lineagraph demo``: the end-to-end example of ``make demo``."""

from __future__ import annotations

import time

import click
from rich.table import Table

from ..browser import local_browser_info
from ..demo import DEMO_ARTIFACT, DEMO_DB, browser_query, run_demo
from .app import Context, cli, open_store
from .render import out_console


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
    started = time.monotonic()
    with open_store(obj) as db:
        done = run_demo(db, obj.settings())
    facts, report = done.server, done.imported
    out_console.print(f"Connected to {facts['name']} {facts['version']} {facts['edition']} "
                      f"at {facts['uri']} in {done.connected_at - started:.1f} s.")
    out_console.print(f"Imported LineaPy's recording of {DEMO_DB.parent.name}/script.py: "
                      f"{report.sessions_imported} session(s) new, "
                      f"{report.sessions_skipped} already there; "
                      f"{report.artifacts_imported + report.artifacts_skipped} artifacts.")
    table = Table(title="Artifacts of the demo session")
    for column in ("name", "version", "value"):
        table.add_column(column)
    for artifact in done.artifacts:
        table.add_row(artifact.name, str(artifact.version), repr(artifact.value))
    out_console.print(table)
    out_console.print(f"The slice of {DEMO_ARTIFACT!r} (the smallest code that recomputes "
                      "it; the copy `snapshot` and the unrelated `colors` are left out):")
    out_console.print(done.slice_code, markup=False, highlight=False)
    if not obj.uri:
        info = local_browser_info(obj.server().status(), obj.database or "neo4j")
        out_console.print(f"Neo4j Browser: {info.browser_url}", markup=False)
        out_console.print(f"  connect to {info.connect_url} as user {info.user}; the password "
                          f"is {info.password_hint}")
        out_console.print("  for colours and captions, paste what `lineagraph browser --style` "
                          "prints", markup=False)
    out_console.print("  then paste:", markup=False)
    out_console.print(f"  {browser_query(DEMO_ARTIFACT)}", markup=False)
