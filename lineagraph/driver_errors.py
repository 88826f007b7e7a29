"""The one place where errors of the Neo4j driver become lineagraph errors.

Every call into the driver (the query layer, the commit, the connection check) passes
what it caught to :func:`translate`, which picks the lineagraph error by the driver
error's *type* and writes a one-line, credential-free message. Callers then decide on
the type they get back, never on its text.

Two kinds of message, by what the caller knows:

- with ``settings`` (connecting, checking a server): which server refused or did not
  answer, and what to do about it (TLS or HTTP port mix-ups, a wrong password);
- without: what lineagraph was doing (``doing``) and why Neo4j could not do it.
"""

from __future__ import annotations

import re
import socket
import ssl
from typing import Iterator

from ._driver import neo4j  # noqa: F401  (first: the driver without NumPy and pandas)
from neo4j import exceptions as neo4j_errors

from .config import ConnectionSettings, host_port
from .errors import (
    CredentialsRefusedError,
    DuplicateError,
    LineagraphError,
    StoreUnavailableError,
)

# What a call into the driver can raise (OSError: a socket failing under it).
DRIVER_ERRORS = (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError)
# Neo4j cannot be used now: down, restarting, busy, or refusing our credentials.
_UNAVAILABLE = (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired,
                neo4j_errors.AuthError, neo4j_errors.TransientError)
_RATE_LIMITED = "Neo.ClientError.Security.AuthenticationRateLimit"


def translate(err: BaseException, doing: str = "", *, outcome: str = "",
              settings: ConnectionSettings | None = None) -> LineagraphError:
    """``err`` as one of ours. ``doing`` names the work ("reading from Neo4j (x)"),
    ``outcome`` is added after "failed" (", nothing of it was stored"). One of ours
    raised inside the call (a query file missing from the installation, an OSError
    too) is returned as it is: Neo4j was not involved (callers raise it ``from None``,
    so an error under it is not shown; its message says what is wrong)."""
    if isinstance(err, LineagraphError):
        return err
    if settings is not None:
        return _connection_error(err, settings)
    if isinstance(err, neo4j_errors.AuthError):
        return CredentialsRefusedError(f"{doing} failed{outcome}: {unavailable(err)}")
    if isinstance(err, _UNAVAILABLE) or isinstance(err, OSError):
        return StoreUnavailableError(f"{doing} failed{outcome}: {unavailable(err)}")
    if isinstance(err, neo4j_errors.ConstraintError):
        return DuplicateError(f"{doing} refused{outcome}: {first_line(err)}")
    code = getattr(err, "code", None)
    return LineagraphError(
        f"{doing} failed{f' ({code})' if code else ''}{outcome}: {first_line(err)}")


def unavailable(err: BaseException) -> str:
    """Why Neo4j could not be used, in one line, after the driver's retries."""
    text = re.sub(r" \(resolved to .*?\)", "", first_line(err)).rstrip(":. ")
    if isinstance(err, neo4j_errors.AuthError):
        return text
    if isinstance(err, neo4j_errors.TransientError):
        return f"Neo4j could not do it now ({text}), also when tried again"
    return f"Neo4j did not answer ({text}), also when tried again"


def first_line(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err)
    return text.splitlines()[0] if text else type(err).__name__


# -- connecting: which server, and what to do ------------------------------------------------
def _connection_error(err: BaseException, settings: ConnectionSettings) -> StoreUnavailableError:
    if isinstance(err, neo4j_errors.AuthError):
        return CredentialsRefusedError(
            f"Neo4j at {settings.safe_uri} refused the credentials of user "
            f"{settings.username!r} (wrong password?)"
        )
    if getattr(err, "code", None) == _RATE_LIMITED:
        return CredentialsRefusedError(
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
    host, port = host_port(rest)
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
