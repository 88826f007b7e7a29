"""``lineagraph run script.py [ARGS...]``."""

from __future__ import annotations

import sys

import click


@click.command("run", context_settings={"ignore_unknown_options": True,
                                        "allow_interspersed_args": False})
@click.option("--quiet", is_flag=True, help="No summary line on stderr.")
@click.argument("script", metavar="SCRIPT")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def run_command(obj, quiet: bool, script: str, args: tuple) -> None:
    """Run a Python script as `python SCRIPT ARGS...` would, recording its lineage
    into the store (one session; `save` calls in the program save artifacts).

    \b
    Example:
      lineagraph run train.py --epochs 3
    """
    from .runner import ScriptError, load, run
    from .sink import open_store

    try:
        # Python's own message and exit code, before the store is touched
        loaded = load(script)
    except ScriptError as err:
        click.echo(str(err).rstrip("\n"), err=True)
        sys.exit(err.exit_code)
    settings = obj.settings() if hasattr(obj, "settings") else None
    db = open_store(settings, getattr(obj, "home", None))  # unreachable: one-line error, exit 3
    try:
        result = run(script, list(args), db, quiet=quiet, loaded=loaded)
    finally:
        db.close()
    sys.exit(result.exit_code)
