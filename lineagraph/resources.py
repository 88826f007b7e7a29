"""Locate files that ship inside the wheel (``cypher/``, ``docker/``).

In a wheel they live under ``lineagraph/_data/`` (see ``force-include`` in
pyproject.toml); in a source checkout they are the top-level folders of the repo.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import MissingDataError


def data_path(relative: str) -> Path:
    """Return the path of a shipped data folder or file, e.g. ``"cypher"``."""
    packaged = resources.files("lineagraph") / "_data" / relative
    if packaged.is_dir() or packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / relative
    if checkout.exists():
        return checkout
    raise MissingDataError(
        f"lineagraph data '{relative}' is missing from this installation "
        f"(looked in {packaged} and {checkout}); reinstall lineagraph"
    )
