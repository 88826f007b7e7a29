"""``lineagraph run script.py [ARGS...]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click


@click.command("run", context_settings={"ignore_unknown_options": True,
                                        "allow_interspersed_args": False})
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="For a notebook: save the executed copy here (the notebook itself "
                   "is never written).")
@click.argument("script", metavar="SCRIPT")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def run_command(obj, quiet: bool, output: Optional[Path], script: str, args: tuple) -> None:
    """Run a Python script as `python SCRIPT ARGS...` would, or a notebook top to bottom
    in a Jupyter kernel, recording its lineage into the store (one session; `save`
    calls in the program save artifacts).

    \b
    Example:
      lineagraph run train.py --epochs 3
      lineagraph run analysis.ipynb --output executed.ipynb
    """
    if script.endswith(".ipynb"):
        _run_notebook(obj, quiet, output, script, args)
        return
    if output is not None:
        raise click.UsageError("--output is for notebooks; a script writes its own files")
    from .prepare import ScriptError, take

    # the script is read, rewritten and compiled in a child process (begun by
    # lineagraph.launch before the store's modules were imported: prepare.py)
    with take(script) as preparation:  # a child left running is reaped
        from .runner import run
        from .sink import open_store

        try:
            # Python's own message and exit code, before the store is touched
            prepared = preparation.result()
        except ScriptError as err:
            click.echo(str(err).rstrip("\n"), err=True)
            sys.exit(err.exit_code)
    settings = obj.settings() if hasattr(obj, "settings") else None
    db = open_store(settings, getattr(obj, "home", None))  # unreachable: one-line error, exit 3
    try:
        result = run(script, list(args), db, quiet=quiet, prepared=prepared)
    finally:
        db.close()
    if result.interrupted:
        _die_of_sigint()
    sys.exit(result.exit_code)


def _die_of_sigint() -> None:
    """End as Python ends after a KeyboardInterrupt nobody caught: it waits for the
    program's threads, runs the exit handlers, then kills itself with SIGINT. A shell
    then sees a program stopped by Ctrl-C, not one that exited 130, and stops a loop
    that ran it (bash goes on with the loop after a plain exit 130)."""
    import atexit
    import os
    import signal
    import threading

    threading._shutdown()  # what Python's finalization does first: join non-daemon threads
    atexit._run_exitfuncs()  # then the exit handlers
    for stream in (sys.stdout, sys.stderr):
        try:  # closed, None or a broken pipe: Python goes on to die of SIGINT all the same
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    if os.name == "nt":  # Python's exit status there: STATUS_CONTROL_C_EXIT
        os._exit(0xC000013A - 2**32)
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except (OSError, ValueError):  # no signals here (not the main thread): exit 130
        pass
    os._exit(130)  # the exit handlers ran already


def _run_notebook(obj, quiet: bool, output: Optional[Path], script: str, args: tuple) -> None:
    from ..config import home_dir
    from .notebook_run import run_notebook
    from .sink import open_store

    rest = list(args)  # `run NB --output OUT` as well as `run --output OUT NB`
    while rest:
        flag = rest.pop(0)
        if flag in ("-o", "--output") and rest and output is None:
            output = Path(rest.pop(0))
        elif flag.startswith("--output=") and output is None:
            output = Path(flag.split("=", 1)[1])
        else:
            raise click.UsageError(f"a notebook takes no arguments (got {flag!r}); "
                                   "its only option is --output OUT.ipynb")
    path = Path(script)
    if not path.is_file():
        click.echo(f"lineagraph: can't open notebook {str(path.absolute())!r}: "
                   "no such file", err=True)
        sys.exit(2)
    settings = obj.settings() if hasattr(obj, "settings") else None
    open_store(settings, getattr(obj, "home", None)).close()  # unreachable: exit 3, nothing ran
    from ..environment import resolve_settings
    settings = settings or resolve_settings()
    # the kernel opens the same store: settings through its environment, never argv
    env = {"NEO4J_URI": settings.uri, "NEO4J_USERNAME": settings.username,
           "NEO4J_PASSWORD": settings.password.get_secret_value(),
           **({"NEO4J_DATABASE": settings.database} if settings.database else {}),
           "LINEAGRAPH_HOME": str(getattr(obj, "home", None) or home_dir())}
    result = run_notebook(path.resolve(), output=output, env=env)
    if result.interrupted is not None:
        click.echo(f"lineagraph: interrupted at cell {result.interrupted} of {path.name}",
                   err=True)
    if result.session_id is None:  # the kernel could not say what it recorded
        click.echo(f"lineagraph: nothing recorded ({result.cells} cells ran)", err=True)
    elif not quiet:
        click.echo(f"lineagraph: recorded session {result.session_id} ({result.nodes} nodes, "
                   f"{result.artifacts} artifacts saved, {result.cells} cells) in "
                   f"{result.seconds:.2f} s", err=True)
    if result.interrupted is not None:
        _die_of_sigint()
