"""Applying the store's constraints and indexes, and recording the schema version.

The statements live in ``cypher/schema/constraints.cypher``; ``ensure_schema`` applies
them in order (each is ``IF NOT EXISTS``) and records ``SCHEMA_VERSION`` in a single
``(:LineagraphSchema {name: 'lineagraph'})`` node, so a later release can tell which
migrations a store needs. A store at this version that has every index and constraint
the statements name is left as it is, after one read (``schema.schema_names``); the
recorder opens the store this way at each ``lineagraph run``. It is an explicit step,
never run by a constructor.

Migrations: a store below version 2 gets its captions (``add_captions``), computed by
the same functions the store writes them with; it only touches what lacks one, so it
can run again, or be interrupted, harmlessly. A store below version 3 loses the index on
``:Node(session_id)`` alone (the ``(session_id, id)`` index answers its lookups).
"""

from __future__ import annotations

import datetime
import re

from ._driver import neo4j  # the driver without NumPy and pandas
from neo4j import exceptions as neo4j_errors

from .driver_errors import DRIVER_ERRORS, translate
from .errors import (DuplicateError, LineagraphError, SchemaVersionError,
                     StoreUnavailableError)
from .queries import queries
from .query import read_all, read_one, read_value, write

# 1: constraints and indexes. 2: every node has a `caption` (for Neo4j Browser).
# 3: no index on :Node(session_id) alone.
SCHEMA_VERSION = 3
CAPTION_BATCH = 5000

__all__ = ["SCHEMA_VERSION", "SchemaVersionError", "ensure_schema", "read_schema_version",
           "check_server_version", "add_captions"]


def read_schema_version(driver: neo4j.Driver, database: str | None = None) -> int | None:
    return read_value(driver, database, "schema.read_version")


def check_server_version(driver: neo4j.Driver, database: str | None = None) -> str:
    """Refuse servers older than Neo4j 5.26, whose Cypher lacks what we use."""
    version = read_one(driver, database, "admin.components")["version"]
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    if len(parts) == 2 and parts[0] < 2025 and tuple(parts) < MIN_SERVER:
        raise LineagraphError(
            f"Neo4j {version} is too old: lineagraph needs Neo4j 5.26 or later"
        )
    return version


MIN_SERVER = (5, 26)


def ensure_schema(driver: neo4j.Driver, database: str | None = None) -> int:
    """Create missing constraints and indexes; return the schema version now recorded."""
    try:
        check_server_version(driver, database)
        found = read_schema_version(driver, database)
        if found is not None and found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"this store has schema version {found}, newer than this lineagraph "
                f"understands ({SCHEMA_VERSION}): upgrade lineagraph"
            )
        creates = [q for q in queries().namespace("schema")
                   if q.name.startswith("schema.") and q.text.lstrip().upper().startswith("CREATE ")]
        names = set(read_value(driver, database, "schema.schema_names"))
        if (found == SCHEMA_VERSION and set(map(_created_name, creates)) <= names
                and not names & set(DROPPED)):
            return SCHEMA_VERSION  # all there: one read instead of a write per statement
        # Schema statements cannot share a transaction with writes: run each on its own.
        for query in creates:
            _create(driver, database, query)
        if found is None or found < 2:
            add_captions(driver, database)
        _drop_old_indexes(driver, database, names)
        _record_version(driver, database)
    except StoreUnavailableError as err:  # keeps its type: refused credentials stay so
        raise type(err)(f"cannot apply the schema: {err}") from None
    return SCHEMA_VERSION


def _record_version(driver: neo4j.Driver, database: str | None) -> None:
    applied = datetime.datetime.now(datetime.timezone.utc)
    for attempt in (1, 2):
        try:
            write(driver, database, "schema.record_version", version=SCHEMA_VERSION,
                  applied_at=applied)
            return
        except DuplicateError:  # another process's MERGE created the node meanwhile:
            if attempt == 2:    # the second MERGE finds it
                raise


# Neo4j's answer when another process created the same index or constraint between
# this statement's IF NOT EXISTS and its own creation (two `lineagraph run` started at
# once on a new store): what the statement was to make exists, so it succeeded
_CREATED_MEANWHILE = "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists"

# Indexes an earlier schema version had: the statement dropping each, and the index
# that now answers its lookups (version 3: (session_id, id) serves what session_id did).
DROPPED = {"lineagraph_node_session": ("schema.drop_node_session_index",
                                       "lineagraph_node_session_id")}


def _drop_old_indexes(driver: neo4j.Driver, database: str | None, names: set[str]) -> None:
    """Drop the indexes of ``DROPPED`` once the index that replaces each is online
    (until then a session's nodes would be found by reading every node). Another process
    may drop one between our IF EXISTS and the drop itself (Neo4j then fails the drop):
    an index that is gone is what was wanted. ``names``: the store's index names."""
    for old, (drop, new) in DROPPED.items():
        if old not in names:
            continue
        try:
            driver.execute_query(queries()["schema.await_index"].text, name=new,
                                 database_=database)
            driver.execute_query(queries()[drop].text, database_=database)
        except DRIVER_ERRORS as err:
            if old in read_value(driver, database, "schema.schema_names"):
                raise translate(err, f"dropping the index {old}") from None


def _create(driver: neo4j.Driver, database: str | None, query) -> None:
    """One schema statement in its own transaction."""
    try:
        driver.execute_query(query.text, database_=database)
    except neo4j_errors.ClientError as err:
        if err.code != _CREATED_MEANWHILE:
            raise translate(err, f"writing to Neo4j ({query.name})") from None
    except DRIVER_ERRORS as err:
        raise translate(err, f"writing to Neo4j ({query.name})") from None


_CREATED = re.compile(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)\s+IF NOT EXISTS", re.I)


def _created_name(query) -> str:
    """The index or constraint a schema statement creates, by its name."""
    found = _CREATED.search(query.text)
    if found is None:  # a statement that names nothing: ensure_schema applies them all
        return f"<{query.name} names nothing>"
    return found.group(1)


def add_captions(driver: neo4j.Driver, database: str | None = None) -> int:
    """Give every node, session, execution, source code, artifact and value that lacks a
    caption its caption, in batches; return how many were given one."""
    from .mapping import OTHER_CAPTIONS, mutation_caption, node_caption

    done = 0
    codes: dict[str, str] = {}

    def fetch_codes(records) -> None:
        """The source code a batch needs and has not fetched yet, in one query."""
        missing = sorted({r["code_id"] for r in records
                          if r["code_id"] is not None and r["code_id"] not in codes})
        if missing:
            found = read_all(driver, database, "store.source_codes_by_ids", ids=missing)
            codes.update({r["code"]["id"]: r["code"]["code"] for r in found})

    def code_of(record) -> str | None:
        return codes.get(record["code_id"])

    for read, setter, caption, key in (
        ("schema.nodes_without_caption", "schema.set_node_captions",
         lambda r: node_caption(r["props"], r["position"], code_of(r)), "id"),
        ("schema.others_without_caption", "schema.set_other_captions",
         lambda r: OTHER_CAPTIONS[r["label"]](r["props"]), "element_id"),
    ):
        while True:
            records = read_all(driver, database, read, limit=CAPTION_BATCH)
            if not records:
                break
            if key == "id":
                fetch_codes(records)
            rows = [{key: r[key], "caption": caption(r)} for r in records]
            write(driver, database, setter, rows=rows)
            done += len(rows)
    while True:  # mutations are named by their call (whose caption now exists)
        records = read_all(driver, database, "schema.mutations_to_caption",
                           limit=CAPTION_BATCH)
        if not records:
            break
        rows = [{"id": r["id"], "caption": mutation_caption(r["call_caption"])}
                for r in records]
        write(driver, database, "schema.set_node_captions", rows=rows)
        done += len(rows)
    return done
