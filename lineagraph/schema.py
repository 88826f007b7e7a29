"""Applying the store's constraints and indexes, and recording the schema version.

The statements live in ``cypher/schema/constraints.cypher``; ``ensure_schema`` applies
them in order (each is ``IF NOT EXISTS``) and records ``SCHEMA_VERSION`` in a single
``(:LineagraphSchema {name: 'lineagraph'})`` node, so a later release can tell which
migrations a store needs. It is an explicit step, never run by a constructor.

Migrations: a store below version 2 gets its captions (``add_captions``), computed by
the same functions the store writes them with; it only touches what lacks one, so it
can run again, or be interrupted, harmlessly.
"""

from __future__ import annotations

import datetime

import neo4j
from neo4j import exceptions as neo4j_errors

from .errors import LineagraphError, StoreUnavailableError
from .queries import queries

# 1: constraints and indexes. 2: every node has a `caption` (for Neo4j Browser).
SCHEMA_VERSION = 2
CAPTION_BATCH = 5000


class SchemaVersionError(LineagraphError):
    """The store was written by a newer lineagraph than this one."""


def read_schema_version(driver: neo4j.Driver, database: str | None = None) -> int | None:
    records, _, _ = driver.execute_query(
        queries()["schema.read_version"].text, database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return records[0]["version"] if records else None


def check_server_version(driver: neo4j.Driver, database: str | None = None) -> str:
    """Refuse servers older than Neo4j 5.26, whose Cypher lacks what we use."""
    records, _, _ = driver.execute_query(queries()["admin.components"].text,
                                         database_=database,
                                         routing_=neo4j.RoutingControl.READ)
    version = records[0]["version"]
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
        # Schema statements cannot share a transaction with writes: run each on its own.
        for query in queries().namespace("schema"):
            if query.name.startswith("schema.") and query.text.lstrip().upper().startswith(
                "CREATE "
            ):
                driver.execute_query(query.text, database_=database)
        if found is None or found < 2:
            add_captions(driver, database)
        driver.execute_query(
            queries()["schema.record_version"].text,
            version=SCHEMA_VERSION,
            applied_at=datetime.datetime.now(datetime.timezone.utc),
            database_=database,
        )
    except (neo4j_errors.ServiceUnavailable, neo4j_errors.AuthError) as err:
        raise StoreUnavailableError(f"cannot apply the schema: {err}") from None
    return SCHEMA_VERSION


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
            found, _, _ = driver.execute_query(queries()["store.source_codes_by_ids"].text,
                                               ids=missing, database_=database)
            codes.update({r["code"]["id"]: r["code"]["code"] for r in found})

    def code_of(record) -> str | None:
        return codes.get(record["code_id"])

    for read, write, caption, key in (
        ("schema.nodes_without_caption", "schema.set_node_captions",
         lambda r: node_caption(r["props"], r["position"], code_of(r)), "id"),
        ("schema.others_without_caption", "schema.set_other_captions",
         lambda r: OTHER_CAPTIONS[r["label"]](r["props"]), "element_id"),
    ):
        while True:
            records, _, _ = driver.execute_query(queries()[read].text, limit=CAPTION_BATCH,
                                                 database_=database)
            if not records:
                break
            if key == "id":
                fetch_codes(records)
            rows = [{key: r[key], "caption": caption(r)} for r in records]
            driver.execute_query(queries()[write].text, rows=rows, database_=database)
            done += len(rows)
    while True:  # mutations are named by their call (whose caption now exists)
        records, _, _ = driver.execute_query(queries()["schema.mutations_to_caption"].text,
                                             limit=CAPTION_BATCH, database_=database)
        if not records:
            break
        rows = [{"id": r["id"], "caption": mutation_caption(r["call_caption"])}
                for r in records]
        driver.execute_query(queries()["schema.set_node_captions"].text, rows=rows,
                             database_=database)
        done += len(rows)
    return done
