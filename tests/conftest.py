"""A real Neo4j for the whole test session, and an empty graph for every test.

Which server: ``LINEAGRAPH_TEST_NEO4J_URI`` (with ``LINEAGRAPH_TEST_NEO4J_USERNAME`` /
``_PASSWORD`` / ``_DATABASE``) if set; else testcontainers' Neo4j container pinned to
``neo4j:5.26-community`` if a Docker engine answers; else lineagraph's managed local
server, in a private directory of this run on free ports (the downloaded Neo4j is
cached between runs). The run prints which one it used.

The tests wipe the database they use before every test, so they deliberately do not
read ``NEO4J_URI``: the store you point lineagraph at is never touched by ``make test``.

With ``LINEAGRAPH_REQUIRE_NEO4J=1`` (set by ``.ci/run``) a server that cannot be had
fails the run; without it, the tests that need Neo4j are skipped.
"""

from __future__ import annotations

import os
import secrets
import string

import neo4j
import pytest
from pydantic import SecretStr

from lineagraph.config import ConnectionSettings
from lineagraph.connection import check_connection, open_driver
from lineagraph.queries import queries

REQUIRE = os.environ.get("LINEAGRAPH_REQUIRE_NEO4J") == "1"
IMAGE = "neo4j:5.26-community"


def _announce(config, message: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[lineagraph tests] {message}")
    else:
        reporter.write_line(f"[lineagraph tests] {message}")


TEST_PREFIX = "LINEAGRAPH_TEST_NEO4J_"


def _from_env() -> ConnectionSettings:
    return ConnectionSettings(
        uri=os.environ[TEST_PREFIX + "URI"],
        username=os.environ.get(TEST_PREFIX + "USERNAME", "neo4j"),
        password=SecretStr(os.environ.get(TEST_PREFIX + "PASSWORD", "")),
        database=os.environ.get(TEST_PREFIX + "DATABASE", "neo4j"),
    )


@pytest.fixture(scope="session")
def neo4j_server(request, tmp_path_factory):
    """(settings, description) of the session's real Neo4j server."""
    from lineagraph.server import ManagedServer
    from lineagraph.server.docker import docker_answers
    from lineagraph.server.ports import free_port

    cleanup = managed = None
    try:
        if os.environ.get("NEO4J_URI"):
            _announce(request.config, "NEO4J_URI is ignored: the tests wipe their database "
                      f"(use {TEST_PREFIX}URI for a server of yours)")
        if os.environ.get(TEST_PREFIX + "URI"):
            settings = _from_env()
            what = f"{TEST_PREFIX}URI={settings.uri}"
            check_connection(settings)
        elif docker_answers():
            from testcontainers.neo4j import Neo4jContainer

            password = "".join(secrets.choice(string.ascii_letters) for _ in range(20))
            container = Neo4jContainer(image=IMAGE, password=password).start()
            cleanup = container.stop
            settings = ConnectionSettings(
                uri=container.get_connection_url(), password=SecretStr(password)
            )
            what = f"testcontainers {IMAGE} at {settings.uri}"
        else:
            home = tmp_path_factory.mktemp("managed-neo4j")
            # free ports, not 7687/7474: a developer's own server may be using those
            server = ManagedServer(home=home, bolt_port=free_port(), http_port=free_port(),
                                   notify=lambda m: _announce(request.config, m))
            server.start()
            cleanup = server.stop
            settings = server.connection_settings()
            managed = server
            what = f"managed local server (java backend) at {settings.uri}, home {home}"
    except Exception as err:  # any failure to get a server is reported the same way
        message = f"no Neo4j server for the tests: {type(err).__name__}: {err}"
        if REQUIRE:
            pytest.fail(message + " (LINEAGRAPH_REQUIRE_NEO4J=1: failing, not skipping)",
                        pytrace=False)
        pytest.skip(message)
    _announce(request.config, f"using {what}")
    yield settings, what, managed
    if cleanup is not None:
        cleanup()


@pytest.fixture(scope="session")
def neo4j_settings(neo4j_server) -> ConnectionSettings:
    return neo4j_server[0]


@pytest.fixture(scope="session")
def managed_server(neo4j_server, tmp_path_factory):
    """A running lineagraph-managed server (for `lineagraph browser` and Neo4j Browser):
    the session's server when it is one, else one started for these tests."""
    if neo4j_server[2] is not None:
        yield neo4j_server[2]
        return
    from lineagraph.server import ManagedServer
    from lineagraph.server.ports import free_port

    server = ManagedServer(home=tmp_path_factory.mktemp("managed-neo4j-browser"),
                           bolt_port=free_port(), http_port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def driver(neo4j_settings):
    drv = open_driver(neo4j_settings)
    yield drv
    drv.close()


def wipe(drv: neo4j.Driver, database: str) -> None:
    """Remove every node, relationship, constraint and index: an empty graph."""
    q = queries()
    with drv.session(database=database) as session:
        session.run(q["admin.wipe_data"].text).consume()
        for row in session.run(q["admin.constraint_names"].text).data():
            session.run(q["admin.drop_constraint"].text, name=row["name"]).consume()
        for row in session.run(q["admin.index_names"].text).data():
            session.run(q["admin.drop_index"].text, name=row["name"]).consume()


@pytest.fixture
def empty_db(driver, neo4j_settings):
    """The session's driver, on a graph emptied before the test."""
    wipe(driver, neo4j_settings.database)
    return driver


@pytest.fixture
def store(empty_db, neo4j_settings, tmp_path):
    """A GraphLineaDB on an empty graph with the schema applied, blobs in tmp_path."""
    from lineagraph import GraphLineaDB

    db = GraphLineaDB(empty_db, database=neo4j_settings.database, blobs=tmp_path / "blobs")
    db.ensure_schema()
    return db
