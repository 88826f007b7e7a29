"""``lineagraph browser``: how to open Neo4j Browser on the store."""

from __future__ import annotations

import click

from ..browser import (local_browser_info, open_browser, remote_browser_info,
                       saved_queries_path, style_command)
from .app import Context, cli, json_option
from .render import emit_json, out_console


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
    if style_only:
        click.echo(style_command(), nl=False)
        return
    if obj.uri:  # a server we do not manage
        info = remote_browser_info(obj.settings())
    else:
        info = local_browser_info(obj.server().status(), obj.database or "neo4j")
    if as_json:
        emit_json(info.model_dump())
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
        out_console.print(f"  saved queries: {saved_queries_path()}", markup=False)
    if open_it:
        open_browser(info)
