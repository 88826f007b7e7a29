"""Which Neo4j to use: explicit settings, else the ``NEO4J_*`` variables, else the
managed local server (started on first use).

This module sits above both ``connection`` (settings from arguments and variables) and
``server`` (the managed server, which itself uses ``connection``), so the imports go one
way: environment -> server -> connection. Progress (starting the server) goes to the
``notify`` callback; the default logs at INFO on the ``lineagraph.server`` logger and
prints nothing.
"""

from __future__ import annotations

from typing import Callable

from . import config
from .config import ConnectionSettings
from .connection import explicit_settings
from .server import ensure_local_server, log_notify


def resolve_settings(
    uri: str | None = None,
    username: str | None = None,
    password: str | None = None,
    database: str | None = None,
    notify: Callable[[str], None] = log_notify,
) -> ConnectionSettings:
    """Explicit arguments, else ``NEO4J_*`` variables, else the managed local server."""
    settings = explicit_settings(uri, username, password, database)
    if settings is not None:
        return settings
    local = ensure_local_server(notify)
    database = database or config.env_connection_overrides().get("database")
    return local.model_copy(update={"database": database or local.database})
