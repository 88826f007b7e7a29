"""The ``lineagraph`` command: a thin layer over the library.

Each command builds what it needs from the options or the standard ``NEO4J_*``
variables, calls one library function, and renders its result; ``main`` turns a
LineagraphError into a one-line message and a meaningful exit code (``--debug`` shows
the traceback).

Modules: ``app`` (the root group, its options, opening the store), ``render``
(consoles, tables, sizes), and one module per command group: ``server`` (``neo4j
...``), ``maintenance`` (info, init, import-lineapy, delete, gc, completion),
``artifacts``, ``sessions``, ``lineage`` (slice, lineage, impact, uses, export),
``browser`` and ``demo``.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click
from rich.markup import escape

from ..errors import LineagraphError
# the command modules register their commands on `cli` when a command of theirs is asked
# for (app.COMMAND_MODULES)
from .app import cli
from .render import err_console

__all__ = ["cli", "main"]


def _hoist_debug(args: list[str]) -> tuple[bool, list[str]]:
    """Whether ``--debug`` is on the line (before any ``--``), and the arguments with it
    moved to the front, where the group's option takes it: so it works after a command
    too, and ``lineagraph --help`` lists it once."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return False, args
    return True, ["--debug"] + [a for a in args[:end] if a != "--debug"] + args[end:]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, tracebacks only with --debug."""
    debug, args = _hoist_debug(list(sys.argv[1:] if argv is None else argv))
    if not debug:  # the driver logs retries and failed routing; our errors say what failed
        logging.getLogger("neo4j").setLevel(logging.CRITICAL + 1)
    try:
        cli.main(args=args, prog_name="lineagraph", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except LineagraphError as err:
        if debug:  # the traceback, and still the exit code that says what failed
            traceback.print_exc()
            sys.exit(err.exit_code)
        first, *rest = str(err).splitlines() or [type(err).__name__]
        err_console.print(f"[red]error:[/red] {escape(first)}", soft_wrap=True)
        for line in rest:
            err_console.print(line, soft_wrap=True, markup=False)
        sys.exit(err.exit_code)
    except OSError as err:  # a file we were asked to read or write
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)
