"""Neo4j Browser as a way into the store: its URL for a server, and our style sheet.

The URL pre-fills Browser's connect form (``dbms`` = connect URL with the user name,
``db`` = database; see Neo4j Browser's "Browser URL parameters"). The password is never
part of it: Browser asks for it, and ``lineagraph neo4j password`` prints the managed
server's. The style sheet (``cypher/browser/style.grass``) gives each label a colour and
shows each node's ``caption``; Browser takes it as ``:style`` followed by its text.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from urllib.parse import quote, urlsplit

from pydantic import BaseModel

from .config import ConnectionSettings, redact_uri
from .errors import ConfigurationError, ServerError
from .resources import data_path
from .server import ServerStatus

STYLE_FILE = "cypher/browser/style.grass"


class BrowserInfo(BaseModel):
    """What `lineagraph browser` prints: enough to open Browser and log in."""

    browser_url: str | None  # None: not known for a server we do not manage
    connect_url: str
    user: str
    database: str
    password_hint: str
    style_file: str


def browser_url(http_uri: str, bolt_uri: str, user: str, database: str) -> str:
    """Browser on ``http_uri``, its connect form filled for ``bolt_uri``, ``user`` and
    ``database``. Raises ValueError for a Bolt URI that is not scheme://host:port."""
    parts = urlsplit(bolt_uri)
    if not parts.scheme or not parts.hostname or "@" in parts.netloc:
        raise ValueError(f"not a plain Bolt URI (scheme://host:port): {redact_uri(bolt_uri)!r}")
    dbms = f"{parts.scheme}://{quote(user, safe='')}@{parts.netloc}"
    return (f"{http_uri.rstrip('/')}/browser/?dbms={quote(dbms, safe=':/@')}"
            f"&db={quote(database, safe='')}")


def style_path() -> Path:
    return data_path(STYLE_FILE)


def style_command() -> str:
    """The text to paste into Browser's editor to load our style sheet."""
    return ":style\n" + style_path().read_text(encoding="utf-8").strip() + "\n"


def saved_queries_path() -> Path:
    """The saved queries for Browser (``cypher/browser/queries.cypher``)."""
    return style_path().parent / "queries.cypher"


def local_browser_info(status: ServerStatus, database: str) -> BrowserInfo:
    """Browser on the managed server; ServerError when it is not running."""
    if not status.running:
        raise ServerError("the local Neo4j is not running: start it with "
                          "`lineagraph neo4j start` (or set NEO4J_URI)")
    return BrowserInfo(
        browser_url=browser_url(status.http_uri, status.bolt_uri, status.user, database),
        connect_url=status.bolt_uri, user=status.user, database=database,
        password_hint=f"in {status.password_file} (`lineagraph neo4j password` prints it)",
        style_file=str(style_path()))


def remote_browser_info(settings: ConnectionSettings) -> BrowserInfo:
    """A server we do not manage: its HTTP port, and so its Browser, are unknown to us."""
    return BrowserInfo(
        browser_url=None, connect_url=settings.safe_uri, user=settings.username,
        database=settings.database,
        password_hint="the one you gave lineagraph (NEO4J_PASSWORD or --password-file)",
        style_file=str(style_path()))


def open_browser(info: BrowserInfo) -> None:
    """Open ``info.browser_url`` in the user's web browser; ConfigurationError when the
    URL is unknown or no web browser can be started."""
    if info.browser_url is None:
        raise ConfigurationError("--open: the Browser URL of that server is unknown")
    if not webbrowser.open(info.browser_url):
        raise ConfigurationError("--open: no web browser could be started here; "
                                 "open the URL above yourself")
