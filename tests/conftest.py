"""A real Neo4j for the whole test run, and an empty graph for every test.

Which server is chosen once, when the run starts, and named in the pytest header and
again in the summary (tests/servers.py has the rules): ``LINEAGRAPH_TEST_NEO4J_URI`` if
set; else, by ``LINEAGRAPH_TEST_BACKEND`` (auto, testcontainers or java),
testcontainers' Neo4j container on a locally present image, else lineagraph's managed
local server (Java backend) in a private directory of this run on free ports.

The tests wipe the database they use before every test, so they deliberately do not
read ``NEO4J_URI``: the store you point lineagraph at is never touched by ``make test``.

Without a server the run FAILS, at its start, saying why: integration tests are never
turned green by skipping them. ``LINEAGRAPH_TESTS_ALLOW_SKIP=1`` is the explicit
opt-out: then tests that need what is missing (a server, Chromium, Docker) are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import neo4j
import pytest

from lineagraph.connection import open_driver
from lineagraph.queries import load_queries

import servers

ALLOW_SKIP = os.environ.get("LINEAGRAPH_TESTS_ALLOW_SKIP") == "1"
REQUIRE_DOCKER = os.environ.get("LINEAGRAPH_REQUIRE_DOCKER") == "1"
REQUIRE = not ALLOW_SKIP  # for the tests that need more than the session's server
HOW_TO_OPT_OUT = "LINEAGRAPH_TESTS_ALLOW_SKIP=1 skips such tests instead"


def unavailable(message: str) -> None:
    """Fail the test (the default) or skip it (LINEAGRAPH_TESTS_ALLOW_SKIP=1)."""
    if REQUIRE:
        pytest.fail(f"{message} ({HOW_TO_OPT_OUT})", pytrace=False)
    pytest.skip(message)


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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """Start (or find) the run's server before the header is printed, so it names it."""
    config = session.config
    config.lineagraph_server = None
    config.lineagraph_server_error = None
    config.lineagraph_notes = []
    if config.option.collectonly or getattr(config, "workerinput", None) is not None:
        return
    servers.stop_servers_on_sigterm()
    if os.environ.get("NEO4J_URI"):
        config.lineagraph_notes.append(
            f"NEO4J_URI is ignored: the tests wipe their database (use {servers.PREFIX}URI "
            "for a server of yours)")
    home = config._tmp_path_factory.mktemp("managed-neo4j")
    try:
        server = servers.start_server(home, notify=config.lineagraph_notes.append)
    except Exception as err:  # any failure to get a server is reported the same way
        message = f"no Neo4j server for the tests: {type(err).__name__}: {err}"
        if REQUIRE:
            pytest.exit(f"{message}. The run fails rather than skip the integration tests "
                        f"({HOW_TO_OPT_OUT}).", returncode=3)
        config.lineagraph_server_error = message
        return
    config.lineagraph_server = server


def pytest_report_header(config):
    lines = []
    server = getattr(config, "lineagraph_server", None)
    if server is not None:
        lines.append(f"lineagraph tests: Neo4j from {server.description}")
    elif getattr(config, "lineagraph_server_error", None):
        lines.append(f"lineagraph tests: {config.lineagraph_server_error} (skipping, "
                     "LINEAGRAPH_TESTS_ALLOW_SKIP=1)")
    lines += [f"lineagraph tests: {note}" for note in getattr(config, "lineagraph_notes", [])]
    return lines


def _docker_missing(marker: str) -> str | None:
    """What the tests marked ``marker`` miss here (None: they can run)."""
    from lineagraph.server import docker

    if marker == "containers":  # the Docker backend: engine, compose, an image
        # no pull here: the run's start tried one already (tests/servers.py start_server)
        return docker.unavailable_reason(docker.chosen_image(), notify=lambda message: None,
                                         try_pull=False)
    if not docker.docker_answers():  # local_image: the image `make neo4j-image` builds
        return "no Docker engine answers"
    if not docker.image_present(docker.LOCAL_IMAGE):
        return f"the image {docker.LOCAL_IMAGE} is missing (build it with `make neo4j-image`)"
    return None


def pytest_collection_modifyitems(config, items):
    """Tests marked ``containers`` need Docker, compose and a Neo4j image; ``local_image``
    the image built here. Where that is missing they are deselected and the summary says
    why; under LINEAGRAPH_REQUIRE_DOCKER=1 (CI) they stay and fail naming what is missing
    (the autouse fixture ``docker_is_there`` below)."""
    config.lineagraph_docker_missing = {}
    config.lineagraph_docker_deselected = []
    for marker in ("containers", "local_image"):
        marked = [item for item in items if item.get_closest_marker(marker)]
        reason = _docker_missing(marker) if marked else None
        if reason is None:
            continue
        if REQUIRE_DOCKER:
            config.lineagraph_docker_missing[marker] = reason
            continue
        config.hook.pytest_deselected(items=marked)
        items[:] = [item for item in items if item not in marked]
        config.lineagraph_docker_deselected.append((marker, len(marked), reason))


@pytest.fixture(autouse=True)
def docker_is_there(request):
    """Under LINEAGRAPH_REQUIRE_DOCKER=1, a Docker test whose needs are missing fails."""
    missing = getattr(request.config, "lineagraph_docker_missing", {})
    for marker, reason in missing.items():
        if request.node.get_closest_marker(marker):
            pytest.fail(f"this Docker test cannot run: {reason} "
                        "(LINEAGRAPH_REQUIRE_DOCKER=1: failing, not deselecting)", pytrace=False)


def pytest_terminal_summary(terminalreporter, config):
    server = getattr(config, "lineagraph_server", None)
    if server is not None:
        terminalreporter.write_line(f"lineagraph tests used Neo4j from {server.description}")
    for marker, number, reason in getattr(config, "lineagraph_docker_deselected", []):
        terminalreporter.write_line(
            f"lineagraph tests: {number} test(s) marked {marker} deselected: {reason} "
            "(LINEAGRAPH_REQUIRE_DOCKER=1 runs them and fails)")


def pytest_sessionfinish(session):
    server = getattr(session.config, "lineagraph_server", None)
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_server(request):
    """The run's server (tests/servers.py RunServer)."""
    server = request.config.lineagraph_server
    if server is None:
        unavailable(request.config.lineagraph_server_error or "no Neo4j server was started")
    return server


@pytest.fixture(scope="session")
def neo4j_settings(neo4j_server):
    return neo4j_server.settings


@pytest.fixture(scope="session")
def managed_server(neo4j_server, tmp_path_factory):
    """A running lineagraph-managed server (for `lineagraph browser` and Neo4j Browser):
    the run's server when it is one, else a Java-backend one started for these tests."""
    if neo4j_server.managed is not None:
        yield neo4j_server.managed
        return
    from lineagraph.server import ManagedServer
    from lineagraph.server.ports import free_port

    from lineagraph.errors import ServerPrerequisiteError
    from lineagraph.server.java import find_java

    try:  # Java where there is one (what CI runs them on); else the automatic choice
        find_java()
        backend = "java"
    except ServerPrerequisiteError:
        backend = "auto"
    server = ManagedServer(home=tmp_path_factory.mktemp("managed-neo4j-browser"),
                           backend=backend, bolt_port=free_port(), http_port=free_port(),
                           notify=lambda message: None)
    try:
        server.start()
    except ServerPrerequisiteError as err:
        unavailable(f"no managed Neo4j for these tests: {err}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def driver(neo4j_settings):
    drv = open_driver(neo4j_settings)
    yield drv
    drv.close()


def wipe(drv: neo4j.Driver, database: str) -> None:
    """Remove every node, relationship, constraint and index: an empty graph."""
    q = load_queries(Path(__file__).parent / "cypher")  # test-only Cypher, not in the wheel
    with drv.session(database=database) as session:
        session.run(q["admin.wipe_relationships"].text).consume()
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


def as_schema_version_2(drv: neo4j.Driver, database: str) -> None:
    """Make a current store look as schema version 2 left it: the index on
    :Node(session_id) beside (session_id, id), and version 2 recorded."""
    for cypher in ("CREATE INDEX lineagraph_node_session FOR (n:Node) ON (n.session_id)",
                   "MATCH (m:LineagraphSchema) SET m.version = 2"):
        drv.execute_query(cypher, database_=database)


@pytest.fixture
def store(empty_db, neo4j_settings, tmp_path):
    """A GraphLineaDB on an empty graph with the schema applied, blobs in tmp_path."""
    from lineagraph import GraphLineaDB

    db = GraphLineaDB(empty_db, database=neo4j_settings.database, blobs=tmp_path / "blobs")
    db.ensure_schema()
    return db
