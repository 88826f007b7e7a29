"""What every command shares to print: the two consoles, the stderr notifier, JSON,
sizes, Python type labels and key/value tables."""

from __future__ import annotations

import json
from typing import Iterable

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..pickletype import short_name

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def notify(message: str) -> None:
    """The CLI's progress callback for the library: a dim line on stderr."""
    err_console.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def size(value: int | None) -> str:
    """``512 B``, ``1.5 KB`` ... ``2.0 GB``; empty for an unknown size."""
    if value is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def type_label(python_type: str | None) -> str:
    """``dict``, or ``DataFrame (pandas.core.frame.DataFrame)``, or ``unknown type``."""
    if python_type is None:
        return "unknown type"
    short = short_name(python_type)
    return short if python_type == f"builtins.{short}" else f"{short} ({python_type})"


def key_value_table(rows: Iterable[tuple[str, object]], title: str | None = None,
                    pad_edge: bool = True) -> Table:
    """A borderless two-column table, labels in bold; rows whose value is None are left out."""
    table = Table(show_header=False, box=None, title=title, pad_edge=pad_edge)
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        if value is not None:
            table.add_row(label, str(value))
    return table
