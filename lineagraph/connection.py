"""Building the driver once, from explicit settings or the ``NEO4J_*`` environment.

The driver is passed into the functions that need it; nothing here is global.
"""

from __future__ import annotations

import socket
import ssl
from typing import Iterator

import neo4j
from neo4j import exceptions as neo4j_errors
from pydantic import SecretStr

from . import config
from .config import ConnectionSettings
from .errors import ConfigurationError, StoreUnavailableError
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


def __getattr__(name: str):
    # Transitional re-export (PEP 562) for callers of the old place, store.py among
    # them: ``resolve_settings`` lives in lineagraph.environment, which imports
    # lineagraph.server, which imports this module. Importing it here only on first use
    # keeps ``import lineagraph.connection`` from loading the server package.
    if name == "resolve_settings":
        from .environment import resolve_settings

        return resolve_settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    host, port = _host_port(rest if sep else uri)
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


def _host_port(authority_and_path: str) -> tuple[str, str]:
    """The host and port of ``host:port/path`` (any user:password@ dropped)."""
    authority = authority_and_path.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):  # [IPv6]:port
        host, _, port = authority[1:].partition("]")
        return f"[{host}]", port.lstrip(":")
    host, _, port = authority.partition(":")
    return host, port


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
        mismatch = (_tls_mismatch(err, settings) or _http_port(err, settings)
                    or _tls_required(err, settings))
        if mismatch is not None:
            return StoreUnavailableError(mismatch)
        return StoreUnavailableError(
            f"cannot reach Neo4j at {settings.safe_uri}: is the server running? "
            "(`lineagraph neo4j start`, or check NEO4J_URI)"
        )
    message = str(getattr(err, "message", None) or err).splitlines()[0]
    return StoreUnavailableError(f"Neo4j at {settings.safe_uri} failed: {message}")


def _causes(err: BaseException) -> Iterator[BaseException]:
    """``err``, its causes and contexts, and the members of any exception group among
    them (the routing driver wraps each router's failure in an ExceptionGroup)."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(getattr(current, "exceptions", ()))  # BaseExceptionGroup
        todo.extend((current.__cause__, current.__context__))


def _tls_mismatch(err: Exception, settings: ConnectionSettings) -> str | None:
    """What is wrong when TLS failed under ``err`` (the driver raises ServiceUnavailable
    from its BoltSecurityError, from the ssl module's error), else None."""
    failure = next((e for e in _causes(err) if isinstance(e, ssl.SSLError)), None)
    if failure is None:
        return None
    scheme, _, rest = settings.safe_uri.partition("://")
    plain = scheme.lower().partition("+")[0]
    if isinstance(failure, ssl.SSLCertVerificationError):
        return (f"Neo4j at {settings.safe_uri} answered TLS with a certificate this machine "
                f"does not trust ({failure.verify_message}): use {plain}+ssc://{rest} to "
                "accept it without verifying, or install its CA certificate")
    if isinstance(failure, ssl.SSLEOFError) or failure.reason == "WRONG_VERSION_NUMBER":
        # the peer closed on our ClientHello, or answered it with something not TLS
        return (f"Neo4j at {settings.safe_uri} did not answer TLS: the server has no "
                f"encryption on at that port; use {plain}://{rest}")
    return f"TLS with Neo4j at {settings.safe_uri} failed ({failure.reason or failure})"


def _tls_required(err: Exception, settings: ConnectionSettings) -> str | None:
    """What is wrong when a plain Bolt URI reached a server that requires TLS, else None.

    Such a server closes the connection on the plain handshake, and the driver then says
    only that it closed (a ServiceUnavailable with no cause, as for any peer that hangs
    up). So when the TCP connection itself worked (no OSError under ``err``), ask the
    port once whether it speaks TLS."""
    scheme, _, rest = settings.safe_uri.partition("://")
    if "+" in scheme or any(isinstance(e, OSError) for e in _causes(err)):
        return None
    host, port = _host_port(rest)
    if not _answers_tls(host.strip("[]"), int(port or 7687)):
        return None
    return (f"Neo4j at {settings.safe_uri} requires TLS: use {scheme}+s://{rest} (or "
            f"{scheme}+ssc://{rest} for a self-signed certificate)")


def _answers_tls(host: str, port: int, timeout: float = 3.0) -> bool:
    """Whether ``host:port`` completes a TLS handshake. Its certificate is not checked:
    this only asks whether the server speaks TLS, and nothing is sent over it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return True
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return False


def _http_port(err: Exception, settings: ConnectionSettings) -> str | None:
    """What is wrong when a Bolt URI reached Neo4j's HTTP port, else None."""
    if not any(_answered_http(e) for e in _causes(err)):
        return None
    return (f"Neo4j at {settings.safe_uri} answered in HTTP: that is its HTTP (Browser) "
            "port; use its Bolt port (7687 unless configured otherwise; "
            "`lineagraph neo4j status` shows the local server's)")


def _answered_http(err: BaseException) -> bool:
    # Matched on text because the driver says it in nothing else: on a handshake answered
    # with b"HTTP" it raises a bare ServiceUnavailable "... (looks like HTTP)"
    # (neo4j/_sync/io/_bolt/_bolt_socket.py, _handshake), with no cause or attribute.
    return isinstance(err, neo4j_errors.ServiceUnavailable) and str(err).endswith(
        "(looks like HTTP)")


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


def describe_server(settings: ConnectionSettings) -> dict:
    """Connect (failing fast, with one line, when Neo4j does not answer) and return
    :func:`server_info`: what ``lineagraph info`` shows."""
    check_connection(settings)
    driver = open_driver(settings)
    try:
        return server_info(driver, settings)
    finally:
        driver.close()
