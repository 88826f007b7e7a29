"""The test fixtures themselves: a missing server fails a CI run instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lineagraph.server.ports import free_port

HERE = Path(__file__).parent


def run_inner_pytest(tmp_path, require: bool):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text("def test_needs_neo4j(driver):\n    pass\n")
    env = dict(os.environ, LINEAGRAPH_TEST_NEO4J_URI=f"bolt://127.0.0.1:{free_port()}",
               LINEAGRAPH_TEST_NEO4J_PASSWORD="irrelevant-123")
    env.pop("LINEAGRAPH_REQUIRE_NEO4J", None)
    if require:
        env["LINEAGRAPH_REQUIRE_NEO4J"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )


def test_with_require_set_an_unreachable_server_fails_the_run(tmp_path):
    done = run_inner_pytest(tmp_path, require=True)
    assert done.returncode != 0
    assert "failing, not skipping" in done.stdout
    assert "1 error" in done.stdout and "skipped" not in done.stdout


def test_the_tests_never_use_the_neo4j_uri_of_the_user(tmp_path):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(
        "def test_which(neo4j_settings):\n    assert 'bolt://127.0.0.1:1' != neo4j_settings.uri\n")
    port = free_port()
    env = dict(os.environ, NEO4J_URI="bolt://127.0.0.1:1", NEO4J_PASSWORD="x" * 12,
               LINEAGRAPH_TEST_NEO4J_URI=f"bolt://127.0.0.1:{port}",
               LINEAGRAPH_TEST_NEO4J_PASSWORD="irrelevant-123")
    env.pop("LINEAGRAPH_REQUIRE_NEO4J", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-s",
         str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert "NEO4J_URI is ignored" in done.stdout
    # it tried the test server (closed here, so it skipped) and never port 1
    assert "1 skipped" in done.stdout and f"bolt://127.0.0.1:{port}" in done.stdout
    assert "bolt://127.0.0.1:1:" not in done.stdout and "127.0.0.1:1 " not in done.stdout


def test_without_require_an_unreachable_server_skips(tmp_path):
    done = run_inner_pytest(tmp_path, require=False)
    assert done.returncode == 0
    assert "1 skipped" in done.stdout
