"""Running named queries: a few functions named by the shape of what they return.

    read_value(driver, database, name, **params)  the first column of the first record, or None
    read_one(driver, database, name, **params)    the first record as a dict, or None
    read_all(driver, database, name, **params)    every record, as dicts
    write(driver, database, name, **params)       one write query, its records
    write_many(driver, database, steps)           several writes in one transaction
    run(tx, name, **params)                       one query inside a transaction function

``name`` is a query of :mod:`lineagraph.queries` (``"store.node_by_id"``); values are
always parameters. The driver is passed in, never global. These functions (with the
commit, which runs its own transaction function) are where driver errors become
lineagraph errors, through :func:`lineagraph.driver_errors.translate`.
"""

from __future__ import annotations

from typing import Any, Callable, Union

from ._driver import neo4j  # the driver without NumPy and pandas

from .driver_errors import DRIVER_ERRORS, translate
from .queries import Query, queries

# a step of write_many: (query name, parameters, or a function of the earlier results
# that returns them)
Params = Union[dict, Callable[[list], dict]]


def _records(driver: neo4j.Driver, database: str | None, name: str,
             params: dict) -> list[neo4j.Record]:
    try:
        records, _, _ = driver.execute_query(
            queries()[name].text, params, database_=database,
            routing_=neo4j.RoutingControl.READ,
        )
    except DRIVER_ERRORS as err:
        raise translate(err, f"reading from Neo4j ({name})") from None
    except OverflowError as err:  # an int beyond Neo4j's 64 bits, e.g. a version
        raise ValueError(f"cannot ask Neo4j ({name}): {err}") from None
    return records


def read_all(driver: neo4j.Driver, database: str | None, name: str, /,
             **params: Any) -> list[dict]:
    """Every record of a read query, as plain dicts."""
    return [record.data() for record in _records(driver, database, name, params)]


def read_rows(driver: neo4j.Driver, database: str | None, name: str, /,
              **params: Any) -> list[tuple]:
    """Every record of a read query as a tuple of its columns in RETURN order: for bulk
    reads of plain values (lists, maps, scalars), which ``Record.data()`` would walk
    again value by value (a third of reading 100,000 nodes)."""
    return [tuple(record) for record in _records(driver, database, name, params)]


def read_one(driver: neo4j.Driver, database: str | None, name: str, /,
             **params: Any) -> dict | None:
    """The first record of a read query, or None when it returns none."""
    rows = read_all(driver, database, name, **params)
    return rows[0] if rows else None


def read_value(driver: neo4j.Driver, database: str | None, name: str, /,
               **params: Any) -> Any:
    """The first column of the first record of a read query, or None."""
    row = read_one(driver, database, name, **params)
    return next(iter(row.values()), None) if row else None


def session(driver: neo4j.Driver, database: str | None) -> neo4j.Session:
    # One bookmark manager for reads (execute_query) and writes, so that on a cluster
    # a read after a commit sees that commit.
    return driver.session(database=database,
                          bookmark_manager=driver.execute_query_bookmark_manager)


def write(driver: neo4j.Driver, database: str | None, name: str, /,
          **params: Any) -> list[dict]:
    """One write query in its own managed transaction; its records."""
    return write_many(driver, database, [(name, params)])[0]


def write_many(driver: neo4j.Driver, database: str | None,
               steps: list[tuple[str, Params]]) -> list[list[dict]]:
    """Several named queries in one managed write transaction (retried on transient
    faults, so each step must be idempotent); the records of each."""
    def work(tx: neo4j.ManagedTransaction) -> list[list[dict]]:
        results: list[list[dict]] = []
        for name, params in steps:
            results.append(run(tx, name, **(params(results) if callable(params) else params)))
        return results

    try:
        with session(driver, database) as open_session:
            return open_session.execute_write(work)
    except DRIVER_ERRORS as err:
        raise translate(err, f"writing to Neo4j ({steps[0][0]})") from None
    except OverflowError as err:
        raise ValueError(f"cannot write to Neo4j ({steps[0][0]}): {err}") from None


def run(tx: neo4j.ManagedTransaction, name: Union[str, Query], /,
        **params: Any) -> list[dict]:
    """One named query (or a :class:`~lineagraph.queries.Query`, e.g. one given its
    label by ``Query.naming``) inside a transaction function; its records as plain data
    (a transaction function may be run again, so it returns no live results).

    The queries run here return maps, lists and scalars, never nodes or relationships
    (``properties(n)``, ``collect([n.id, elementId(n)])``), so each record becomes a
    dict as it came from the driver: ``Result.data()`` would walk every value again
    (a tenth of a 10,000-node commit, for the element ids its writes return)."""
    query = queries()[name] if isinstance(name, str) else name
    params = {k: Rows(v) if type(v) is list else v for k, v in params.items()}
    result = tx.run(query.text, params)
    keys = result.keys()
    return [dict(zip(keys, values)) for values in result]


class Rows(list):
    """A list parameter whose ``repr`` is short. The driver builds the debug line of
    every statement (``repr`` of all its parameters) before asking whether debug logging
    is on: for the rows of a 100,000-node commit that was 0.33 s. It packs as the list it
    is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"
