"""Building the driver once, from explicit settings or the ``NEO4J_*`` environment.

The driver is passed into the functions that need it; nothing here is global.
"""

from __future__ import annotations

from ._driver import neo4j  # the driver without NumPy and pandas
from neo4j import exceptions as neo4j_errors
from pydantic import SecretStr

from . import config, driver_errors
from .config import ConnectionSettings, host_port
from .errors import ConfigurationError, LineagraphError, StoreUnavailableError
from .queries import queries

__all__ = ["ConnectionSettings", "StoreUnavailableError", "explicit_settings", "open_driver",
           "check_connection", "server_info", "describe_server", "translate"]


def explicit_settings(
    uri: str | None = None,
    username: str | None = None,
    password: str | None = None,
    database: str | None = None,
) -> ConnectionSettings | None:
    """Settings from explicit arguments, else ``NEO4J_*`` variables; None when neither
    names a URI (then :func:`lineagraph.environment.resolve_settings` uses the managed
    local server)."""
    env = config.env_connection_overrides()
    uri = uri or env.get("uri")
    if not uri:
        return None
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


# The schemes of Bolt, the protocol lineagraph speaks. The driver also takes http:// and
# https:// (Neo4j's HTTP Query API, through aiohttp), which lineagraph does not use.
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def check_uri_scheme(uri: str) -> str:
    """The URI's scheme, lower case; ConfigurationError, saying what to use instead,
    unless it is one of BOLT_SCHEMES."""
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if sep and scheme in BOLT_SCHEMES:
        return scheme
    host, port = host_port(rest if sep else uri)
    host = host or "HOST"
    if not sep:
        shown = config.redact_uri("x://" + uri)[len("x://"):]  # no user:password@ shown
        raise ConfigurationError(
            f"NEO4J_URI {shown!r} has no scheme: use bolt://{host}:{port or 7687} "
            "(or neo4j://, or neo4j+s:// for TLS, as on Aura)")
    if scheme == "http":
        raise ConfigurationError(
            f"http:// is Neo4j's HTTP port (Browser); lineagraph speaks Bolt: use "
            f"bolt://{host}:7687")
    if scheme == "https":
        raise ConfigurationError(
            f"https:// is Neo4j's HTTPS port (Browser); lineagraph speaks Bolt: use "
            f"neo4j+s://{host}" + (":7687" if port else ""))
    raise ConfigurationError(
        f"NEO4J_URI {config.redact_uri(uri)!r}: {scheme}:// is not a Bolt scheme; use "
        + ", ".join(f"{s}://" for s in BOLT_SCHEMES) + f" (e.g. bolt://{host}:7687)")


def open_driver(settings: ConnectionSettings) -> neo4j.Driver:
    """A driver for ``settings``; raises ConfigurationError for a malformed URI."""
    check_uri_scheme(settings.uri)
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
            # Every result is read whole (execute_query, Result.data()): ask for all of
            # its records at once. In batches of the driver's default 1,000, each batch
            # waited ~50 ms for the server here: 5.5 s of reading 100,000 node ids,
            # against 0.05 s in one (BENCHMARKS.md).
            fetch_size=-1,
        )
    except (neo4j_errors.ConfigurationError, ValueError) as err:
        # the driver quotes the URI it was given, user:password@ included
        message = str(err).replace(settings.uri, settings.safe_uri)
        secret = settings.password.get_secret_value()
        if secret and secret in message:
            # masking it in place would show where a short password matched ("E***amples"
            # for "x"): leave the driver's words out altogether
            message = "the driver refused it (its message is not shown: it holds the password)"
        raise ConfigurationError(
            f"cannot use NEO4J_URI {settings.safe_uri!r}: {message}") from None


def translate(err: Exception, settings: ConnectionSettings) -> LineagraphError:
    """A one-line, credential-free StoreUnavailableError for a driver error (see
    :mod:`lineagraph.driver_errors`, where every driver error is translated); one of
    lineagraph's own errors (a query file missing) as it is."""
    return driver_errors.translate(err, settings=settings)


def check_connection(settings: ConnectionSettings) -> None:
    """Raise StoreUnavailableError unless Neo4j answers and accepts our credentials."""
    driver = open_driver(settings)
    try:
        driver.verify_connectivity()
    except driver_errors.DRIVER_ERRORS as err:
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
    except driver_errors.DRIVER_ERRORS as err:
        raise translate(err, settings) from None
    row = records[0]
    return {"name": row["name"], "version": row["version"], "edition": row["edition"],
            "uri": settings.safe_uri, "database": settings.database}


def describe_server(settings: ConnectionSettings) -> dict:
    """Connect (failing fast, with one line, when Neo4j does not answer) and return
    :func:`server_info`: what ``lineagraph info`` shows."""
    check_connection(settings)
    driver = open_driver(settings)
    try:
        return server_info(driver, settings)
    finally:
        driver.close()
