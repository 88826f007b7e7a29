"""Settings, read the way the Neo4j ecosystem already names them.

Connection: ``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``
(a Bolt scheme: ``bolt://``, ``neo4j://``, ``neo4j+s://`` ...; see
``connection.BOLT_SCHEMES``). When
``NEO4J_URI`` is not set, lineagraph uses its managed local server.

lineagraph's own: ``LINEAGRAPH_HOME`` (per-user data directory: server state, blobs),
``LINEAGRAPH_CACHE`` (downloaded Neo4j artifacts), ``LINEAGRAPH_NEO4J_BACKEND``
(``auto``, ``java`` or ``docker``), ``LINEAGRAPH_NEO4J_HEAP`` and
``LINEAGRAPH_NEO4J_PAGECACHE`` (memory of the managed server), ``LINEAGRAPH_RETRY_SECONDS``
(how long a transaction is retried while Neo4j is unreachable or busy; default 60),
``LINEAGRAPH_TRANSACTION_NODES`` (a commit of more nodes is written in transactions of
at most this many and published at once; default 2,500),
``LINEAGRAPH_WRITE_WORKERS`` (how many of those transactions run at once; default 2).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import platformdirs
from pydantic import BaseModel, ConfigDict, SecretStr

from .errors import ConfigurationError

DEFAULT_USERNAME = "neo4j"
DEFAULT_DATABASE = "neo4j"
# Long enough for the managed server to restart (about 10 s here) with room to spare.
DEFAULT_RETRY_SECONDS = 60.0
# nodes per transaction of a large commit (lineagraph.store.staging). A 512 MiB server
# refuses one transaction of 100,000 nodes (one of 10,000 peaks near 82 MiB). Smaller is
# faster there too: a transaction's state outlives young collections, and two of 10,000
# at once spent 2.2-3.1 s of a 100,000-node commit in GC, two of 2,500 0.9 s; the commit
# took 4.2 s instead of 6.3-7.2 s (benchmarks/commit_large_session.py).
DEFAULT_TRANSACTION_NODES = 2_500
# transactions of a large commit written at once: Neo4j runs each statement on one core,
# and on a 2-core machine two at a time committed 100,000 nodes ~1.3x faster than one
DEFAULT_WRITE_WORKERS = 2
MAX_WRITE_WORKERS = 32


class ConnectionSettings(BaseModel):
    """Where Neo4j is and how to log in. The password never appears in ``repr``."""

    model_config = ConfigDict(frozen=True)

    uri: str
    username: str = DEFAULT_USERNAME
    password: SecretStr
    database: str = DEFAULT_DATABASE

    def __repr_args__(self):  # repr() shows the URI without any user:password@ part
        for name, value in super().__repr_args__():
            yield name, (self.safe_uri if name == "uri" else value)

    def __str__(self) -> str:  # used in messages: never the password
        return f"{self.safe_uri} as {self.username!r} (database {self.database!r})"

    @property
    def safe_uri(self) -> str:
        """The URI without any user:password@ part, for messages and logs."""
        return redact_uri(self.uri)


def redact_uri(uri: str) -> str:
    """``uri`` with any ``user:password@`` replaced by ``***@``. The userinfo ends at the
    last ``@`` before the path, so a password holding ``/``, ``@`` or ``:`` is hidden too."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    at = rest.rfind("@", 0, _end_of_host(rest))
    return f"{scheme}://***@{rest[at + 1:]}" if at >= 0 else uri


def _end_of_host(rest: str) -> int:
    """Where the authority ends: the first / ? or # after the last @ (or the end)."""
    start = rest.rfind("@") + 1
    ends = [i for i in (rest.find(c, start) for c in "/?#") if i >= 0]
    return min(ends) if ends else len(rest)


def host_port(authority_and_path: str) -> tuple[str, str]:
    """The host and port of ``host:port/path`` (any user:password@ dropped)."""
    authority = authority_and_path.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):  # [IPv6]:port
        host, _, port = authority[1:].partition("]")
        return f"[{host}]", port.lstrip(":")
    host, _, port = authority.partition(":")
    return host, port


def home_dir() -> Path:
    """The per-user data directory (``LINEAGRAPH_HOME``)."""
    env = os.environ.get("LINEAGRAPH_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("lineagraph"))


def cache_dir() -> Path:
    """Where downloaded Neo4j artifacts are kept (``LINEAGRAPH_CACHE``)."""
    env = os.environ.get("LINEAGRAPH_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("lineagraph"))


def env_connection_overrides() -> dict[str, str]:
    """The ``NEO4J_*`` variables that are set, keyed by setting name."""
    names = {
        "uri": "NEO4J_URI",
        "username": "NEO4J_USERNAME",
        "password": "NEO4J_PASSWORD",
        "database": "NEO4J_DATABASE",
    }
    return {key: os.environ[var] for key, var in names.items() if os.environ.get(var)}


def _bounded(name: str, default, parse: Callable[[str], Any], low, high, expected: str):
    """The setting ``name`` parsed, ``default`` when unset; a value that does not parse
    or lies outside ``low..high`` is a ConfigurationError saying what was ``expected``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None or not (low <= value <= high):
        raise ConfigurationError(f"{name}={raw!r}: expected {expected}")
    return value


def retry_seconds() -> float:
    """How long a transaction is retried on transient faults (``LINEAGRAPH_RETRY_SECONDS``)."""
    return _bounded("LINEAGRAPH_RETRY_SECONDS", DEFAULT_RETRY_SECONDS, float, 0, 3600,
                    "a number of seconds from 0 to 3600")


def transaction_nodes() -> int:
    """Nodes per transaction of a large commit (``LINEAGRAPH_TRANSACTION_NODES``)."""
    return _bounded("LINEAGRAPH_TRANSACTION_NODES", DEFAULT_TRANSACTION_NODES,
                    lambda raw: int(raw.replace("_", "")), 1, 10_000_000,
                    "a whole number of nodes from 1 to 10,000,000")


def write_workers() -> int:
    """Transactions of a large commit written at once (``LINEAGRAPH_WRITE_WORKERS``)."""
    return _bounded("LINEAGRAPH_WRITE_WORKERS", DEFAULT_WRITE_WORKERS, int, 1,
                    MAX_WRITE_WORKERS, f"a whole number from 1 to {MAX_WRITE_WORKERS}")
