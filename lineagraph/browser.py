"""Neo4j Browser as a way into the store: its URL for a server, and our style sheet.

The URL pre-fills Browser's connect form (``dbms`` = connect URL with the user name,
``db`` = database; see Neo4j Browser's "Browser URL parameters"). The password is never
part of it: Browser asks for it, and ``lineagraph neo4j password`` prints the managed
server's. The style sheet (``cypher/browser/style.grass``) gives each label a colour and
shows each node's ``caption``; Browser takes it as ``:style`` followed by its text.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from pydantic import BaseModel

from .config import redact_uri
from .resources import data_path

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
