"""Building the driver once, from explicit settings or the ``NEO4J_*`` environment.

The driver is passed into the functions that need it; nothing here is global.
"""

from __future__ import annotations

from typing import Callable

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import SecretStr

from . import config
from .config import ConnectionSettings
from .errors import ConfigurationError, StoreUnavailableError
from .queries import queries

__all__ = ["ConnectionSettings", "StoreUnavailableError", "resolve_settings", "open_driver",
           "check_connection", "server_info"]


def resolve_settings(
    uri: str | None = None,
    username: str | None = None,
    password: str | None = None,
    database: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> ConnectionSettings:
    """Explicit arguments, else ``NEO4J_*`` variables, else the managed local server."""
    env = config.env_connection_overrides()
    uri = uri or env.get("uri")
    if not uri:
        from .server import _stderr, ensure_local_server

        local = ensure_local_server(notify or _stderr)
        return ConnectionSettings(
            uri=local.uri,
            username=local.username,
            password=local.password,
            database=database or env.get("database") or local.database,
        )
    password = password if password is not None else env.get("password")
    if password is None:
        raise ConfigurationError(
            f"NEO4J_URI is set to {config.redact_uri(uri)} but no password was given: set NEO4J_PASSWORD "
            "or use --password-file"
        )
    return ConnectionSettings(
        uri=uri,
        username=username or env.get("username") or config.DEFAULT_USERNAME,
        password=SecretStr(password),
        database=database or env.get("database") or config.DEFAULT_DATABASE,
    )


def open_driver(settings: ConnectionSettings) -> neo4j.Driver:
    """A driver for ``settings``; raises ConfigurationError for a malformed URI."""
    if config.redact_uri(settings.uri) != settings.uri:
        # the driver takes no user:password@ in a URI and quotes the URI in its errors
        # and warnings, password included: refuse it before the driver sees it
        raise ConfigurationError(
            f"NEO4J_URI {settings.safe_uri!r} carries a user name or password: give them "
            "in NEO4J_USERNAME and NEO4J_PASSWORD (or --password-file) instead"
        )
    try:
        return neo4j.GraphDatabase.driver(
            settings.uri,
            auth=(settings.username, settings.password.get_secret_value()),
            connection_timeout=10.0,
            # Managed transactions and execute_query retry transient faults (server
            # restarting, leader switch, deadlock) for this long, then give up.
            max_transaction_retry_time=config.retry_seconds(),
            # Planner hints ("label does not exist yet") are noise for a store that
            # creates its labels on first write; errors still raise.
            notifications_min_severity="OFF",
        )
    except (neo4j_errors.ConfigurationError, ValueError) as err:
        # the driver quotes the URI it was given, user:password@ included
        message = str(err).replace(settings.uri, settings.safe_uri)
        message = message.replace(settings.password.get_secret_value() or "\0", "***")
        raise ConfigurationError(
            f"cannot use NEO4J_URI {settings.safe_uri!r}: {message}") from None


def translate(err: Exception, settings: ConnectionSettings) -> StoreUnavailableError:
    """A one-line, credential-free StoreUnavailableError for a driver error."""
    if isinstance(err, neo4j_errors.AuthError):
        return StoreUnavailableError(
            f"Neo4j at {settings.safe_uri} refused the credentials of user "
            f"{settings.username!r} (wrong password?)"
        )
    if getattr(err, "code", None) == "Neo.ClientError.Security.AuthenticationRateLimit":
        return StoreUnavailableError(
            f"Neo4j at {settings.safe_uri} refuses user {settings.username!r} for a few "
            "seconds after too many wrong passwords in a row; check the password"
        )
    if isinstance(err, neo4j_errors.ServiceUnavailable):
        return StoreUnavailableError(
            f"cannot reach Neo4j at {settings.safe_uri}: is the server running? "
            "(`lineagraph neo4j start`, or check NEO4J_URI)"
        )
    message = str(getattr(err, "message", None) or err).splitlines()[0]
    return StoreUnavailableError(f"Neo4j at {settings.safe_uri} failed: {message}")


def check_connection(settings: ConnectionSettings) -> None:
    """Raise StoreUnavailableError unless Neo4j answers and accepts our credentials."""
    driver = open_driver(settings)
    try:
        driver.verify_connectivity()
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError) as err:
        raise translate(err, settings) from None
    finally:
        driver.close()


def server_info(driver: neo4j.Driver, settings: ConnectionSettings) -> dict:
    """Name, version and edition of the server behind ``driver``."""
    try:
        records, _, _ = driver.execute_query(
            queries()["admin.components"].text,
            routing_=neo4j.RoutingControl.READ,
            database_="system",
        )
    except (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError) as err:
        raise translate(err, settings) from None
    row = records[0]
    return {"name": row["name"], "version": row["version"], "edition": row["edition"],
            "uri": settings.safe_uri, "database": settings.database}
