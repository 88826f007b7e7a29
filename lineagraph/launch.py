"""The ``lineagraph`` command's entry point, and ``python -m lineagraph``'s.

For ``lineagraph run SCRIPT.py``, the script's preparation (read, rewrite, compile:
``recorder/prepare.py``) starts here, in a child process, before the command line's
modules and the store's are imported: the two then run on two cores. Which command
and script the line names is only guessed here, from the root's options; click parses
the line as always, and a guess that does not match what the command then asks for
is dropped (``prepare.take``). Everything else is ``lineagraph.cli.main``.
"""

from __future__ import annotations

import sys
from typing import Optional

# the root group's options that take a value (lineagraph.cli.app)
_ROOT_VALUES = {"--uri", "--username", "--password-file", "--database", "--home"}
_RUN_VALUES = {"-o", "--output"}
_NOT_RUNNING = {"-h", "--help", "--version"}


def main() -> None:
    script = script_to_run(sys.argv[1:])
    if script is not None:
        from .recorder import prepare

        prepare.begin(script)
    from .cli import main as cli_main

    cli_main()


def script_to_run(args: list[str]) -> Optional[str]:
    """The script of a ``lineagraph [OPTIONS] run [-q] SCRIPT.py ...`` line; None for any
    other line (another command, a notebook, help)."""
    end = args.index("--") if "--" in args else len(args)
    if _NOT_RUNNING & set(args[:end]):
        return None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _ROOT_VALUES else 1
    if i >= len(args) or args[i] != "run":
        return None
    i += 1
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in _RUN_VALUES else 1
    if i < len(args) and args[i] == "--":
        i += 1
    if i >= len(args) or args[i].endswith(".ipynb"):
        return None
    return args[i]
