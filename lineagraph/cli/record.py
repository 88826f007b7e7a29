"""``lineagraph run``: record a script into the store (the command lives with the
recorder, lineagraph/recorder/cli.py; this module only registers it)."""

from __future__ import annotations

from ..recorder.cli import run_command
from .app import cli

cli.add_command(run_command)
