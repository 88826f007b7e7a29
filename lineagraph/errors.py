"""Every error lineagraph raises on purpose.

    LineagraphError                    root: catch this to catch them all
    ├── ConfigurationError             a setting or argument is missing or malformed
    ├── ServerError                    the managed local Neo4j could not be started or stopped
    │   ├── ServerPrerequisiteError    neither Docker nor a usable Java is available
    │   ├── DataPasswordError          the data directory was made with another password
    │   └── PortInUseError             a port the server was to listen on is taken
    ├── StoreUnavailableError          Neo4j cannot be reached, or refuses our credentials
    │   └── CredentialsRefusedError    Neo4j refused the user name and password
    ├── SchemaVersionError             the store was written by a newer lineagraph
    ├── QueryFileError                 a .cypher file is malformed (names file and line)
    ├── NotFoundError                  an artifact, node, session or value does not exist
    │   └── ValueNotFoundError         no value stored for a node (also a ValueError, as in LineaPy)
    ├── DuplicateError                 an artifact name and version already exists
    ├── CorruptBlobError               a stored blob is missing or its hash does not match
    ├── ImportError_                   a LineaPy database cannot be imported
    └── MissingDataError               a file lineagraph ships (cypher/, docker/) is missing
                                       (also a FileNotFoundError)

Driver errors are re-raised as one of these in one place,
:func:`lineagraph.driver_errors.translate`, so that callers see one family, and the
message names what was involved; code decides on the type, never on the text. Messages never include
credentials.
"""

from __future__ import annotations


class LineagraphError(Exception):
    """Root of every lineagraph error."""

    exit_code = 1


class ConfigurationError(LineagraphError):
    """A setting or argument is missing or malformed."""

    exit_code = 2


class ServerError(LineagraphError):
    """The managed local Neo4j server could not be started, stopped or inspected."""

    exit_code = 3


class ServerPrerequisiteError(ServerError):
    """Neither a Docker engine nor a usable Java runtime is available."""


class DataPasswordError(ServerError):
    """The managed server's data directory was created with another password."""


class PortInUseError(ServerError):
    """A port the managed server was to listen on was taken by another process."""


class StoreUnavailableError(LineagraphError):
    """Neo4j cannot be reached, or it refused our credentials."""

    exit_code = 3


class CredentialsRefusedError(StoreUnavailableError):
    """Neo4j refused the user name and password (or refuses them for a while)."""


class SchemaVersionError(LineagraphError):
    """The store was written by a newer lineagraph than this one."""


class QueryFileError(LineagraphError):
    """A .cypher query file is malformed; the message names the file and line."""


class NotFoundError(LineagraphError):
    """An artifact, node, session or value does not exist."""

    exit_code = 4


class ValueNotFoundError(NotFoundError, ValueError):
    """No value is stored for a node in an execution (a ValueError, as LineaPy raised)."""


class DuplicateError(LineagraphError):
    """An artifact with this name and version already exists."""

    exit_code = 5


class CorruptBlobError(LineagraphError):
    """A stored blob is missing, or its content does not match its recorded hash."""

    exit_code = 6


class ImportError_(LineagraphError):  # noqa: N801 - avoid shadowing the builtin
    """A LineaPy database cannot be imported."""

    exit_code = 7


class MissingDataError(LineagraphError, FileNotFoundError):
    """A data file shipped with lineagraph (``cypher/``, ``docker/``) is missing from
    this installation, or cannot be read. Also a FileNotFoundError, so that it is never
    taken for a socket's OSError, and callers that look for a missing file still find
    it."""
