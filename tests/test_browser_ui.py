"""Neo4j Browser in a real, headless Chromium (Debian's /usr/bin/chromium driven by
Playwright; no browser download): open the URL `lineagraph browser` gives, log in through
the connect form, load our style sheet, run a saved query with its `:param`, and see the
result the Python API gives for the same data. Saves a screenshot.

Without Chromium (or Playwright) the test fails saying how to install it; with
LINEAGRAPH_TESTS_ALLOW_SKIP=1 (the explicit opt-out) it is skipped instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import unavailable, wipe
from lineagraph import GraphLineaDB, lineage
from lineagraph.browser import style_command
from lineagraph.connection import open_driver
from lineagraph.importer import import_lineapy
from lineagraph.queries import queries

CHROMIUM = os.environ.get("LINEAGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FIXTURE = Path(__file__).parent / "fixtures" / "lineapy" / "list_mutation_alias"
ARTIFACTS = Path(__file__).parent / "artifacts"
ARTIFACT = "sorted_scores"
UI_TIMEOUT = 180_000  # ms: Browser's bundle is large and this machine may be busy


def _unavailable(reason: str) -> None:
    message = (f"{reason}: the real-browser test needs Debian's Chromium "
               "(`apt-get install -y chromium`) and the test extra (`pip install '.[test]'`)")
    unavailable(message)


@pytest.fixture(scope="session")
def chromium():
    """Checked before any server is started (session fixtures come first)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def playwright_api(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as api:
        yield api


def test_a_saved_query_in_neo4j_browser_draws_the_artifacts_upstream_graph(
        chromium, playwright_api, managed_server, tmp_path):
    settings = managed_server.connection_settings()
    drv = open_driver(settings)
    try:
        wipe(drv, settings.database)
        db = GraphLineaDB(drv, database=settings.database, blobs=tmp_path / "blobs")
        db.ensure_schema()
        import_lineapy(db, FIXTURE / "db.sqlite")
        want_nodes, want_rels, short = _expected(db)
    finally:
        drv.close()
    # the URL as `lineagraph browser` prints it (the password is typed, as a person does)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "--home",
                           str(managed_server.home), "browser", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    url = json.loads(done.stdout)["browser_url"]
    bolt = settings.uri
    query = queries()["browser.upstream"]
    shot = tmp_path / "browser.png"
    browser = playwright_api.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(UI_TIMEOUT)
        page.goto(url, timeout=UI_TIMEOUT)
        # the URL filled in the connect form: address and user, never a password
        address = page.get_by_test_id("boltaddress")
        address.wait_for()
        assert address.input_value() == urlsplit(bolt).netloc
        assert page.get_by_test_id("username").input_value() == settings.username
        assert page.get_by_test_id("password").input_value() == ""
        page.get_by_test_id("password").fill(settings.password.get_secret_value())
        page.get_by_test_id("connect").click()
        page.get_by_text("You are connected as user").first.wait_for()

        def run(text: str) -> None:
            page.locator("#monaco-main-editor").click()
            page.keyboard.insert_text(text)
            page.get_by_test_id("editor-Run").click()

        run(style_command())
        run(f":param artifact => '{ARTIFACT}'")
        page.get_by_text("Successfully set your parameters").first.wait_for()
        run(query.text)
        status = page.get_by_text(
            f"Displaying {want_nodes} nodes, {want_rels} relationships.").first
        status.wait_for()
        drawn = page.locator("svg text")
        for caption in short:  # the style sheet's caption: '{caption}' is what is drawn
            exact = re.compile(r"^\s*" + re.escape(caption) + r"\s*$")
            drawn.filter(has_text=exact).first.wait_for()
        # the result frame on the whole window, for a readable screenshot
        page.locator("[title='Fullscreen']").first.click()
        page.wait_for_function("document.querySelectorAll('svg text').length > 0")
        graph = page.locator("[data-testid='frameContents'] svg").first.bounding_box()
        page.mouse.move(graph["x"] + graph["width"] / 2, graph["y"] + graph["height"] / 2)
        page.mouse.wheel(0, -400)  # zoom in so the captions can be read
        page.wait_for_timeout(1500)  # the zoom's animation, for the picture only
        page.screenshot(path=str(shot))
    except Exception:
        page.screenshot(path=str(shot))  # what the page showed when it went wrong
        print(f"screenshot of the failure: {shot}")
        raise
    finally:
        browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "browser.png")
    print(f"screenshot: {shot} (copied to {ARTIFACTS / 'browser.png'})")


def _expected(db):
    """What the Python API says the query must show: the artifact, its node and all
    upstream (counts of nodes and relationships), and the short captions among them."""
    upstream = lineage.upstream(db, artifact=ARTIFACT)
    art = db.get_artifact_by_name(ARTIFACT)
    node_ids = {art.node_id} | {n.id for n in upstream}
    session = db.get_node_by_id(art.node_id).session_id
    nodes = {n.id: n for n in db.get_nodes_for_session(session)}
    dependencies = sum(len(list(nodes[i].parents())) for i in node_ids)
    records, _, _ = db.driver.execute_query(
        "MATCH (n:Node) WHERE n.id IN $ids RETURN n.caption AS caption",
        {"ids": sorted(node_ids)}, database_=db.database)
    short = sorted({r["caption"] for r in records if len(r["caption"]) <= 6})
    assert short  # drawn whole inside a node's circle, so they can be looked for
    return len(node_ids) + 1, dependencies + 1, short  # + the artifact, + its OF_NODE


@pytest.mark.parametrize("allow_skip, code, outcome",
                         [("", 1, "1 error"), ("1", 0, "1 skipped")])
def test_without_chromium_it_fails_unless_skips_are_allowed(tmp_path, allow_skip, code,
                                                           outcome, neo4j_settings):
    env = dict(os.environ, LINEAGRAPH_CHROMIUM=str(tmp_path / "no-chromium"),
               LINEAGRAPH_TESTS_ALLOW_SKIP=allow_skip,
               # the inner run reuses this run's server rather than starting one
               LINEAGRAPH_TEST_NEO4J_URI=neo4j_settings.uri,
               LINEAGRAPH_TEST_NEO4J_USERNAME=neo4j_settings.username,
               LINEAGRAPH_TEST_NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               LINEAGRAPH_TEST_NEO4J_DATABASE=neo4j_settings.database)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rEfs",
         f"{__file__}::test_a_saved_query_in_neo4j_browser_draws_the_artifacts_upstream_graph"],
        capture_output=True, text=True, env=env, timeout=300, cwd=Path(__file__).parent.parent)
    assert done.returncode == code, done.stdout + done.stderr
    assert outcome in done.stdout and "apt-get install -y chromium" in done.stdout
