"""The test fixtures themselves: a missing server fails the run (never skips it, unless
LINEAGRAPH_TESTS_ALLOW_SKIP=1), the header names the server, the user's NEO4J_URI is
never used. Each case runs pytest on a tiny suite with a copy of our conftest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lineagraph.server.ports import free_port

HERE = Path(__file__).parent


def run_inner_pytest(tmp_path, test_text: str, **env_extra) -> subprocess.CompletedProcess:
    for name in ("conftest.py", "servers.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_inner.py").write_text(test_text)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LINEAGRAPH_TEST", "NEO4J_"))}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )


NEEDS_NEO4J = "def test_needs_neo4j(driver):\n    pass\n"


def unreachable() -> dict:
    return dict(LINEAGRAPH_TEST_NEO4J_URI=f"bolt://127.0.0.1:{free_port()}",
                LINEAGRAPH_TEST_NEO4J_PASSWORD="irrelevant-123")


def test_an_unreachable_server_fails_the_run_at_its_start_saying_why(tmp_path):
    done = run_inner_pytest(tmp_path, NEEDS_NEO4J, **unreachable())
    assert done.returncode == 3, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "no Neo4j server for the tests" in out and "cannot reach Neo4j" in out
    assert "LINEAGRAPH_TESTS_ALLOW_SKIP=1" in out
    assert "passed" not in out and "skipped" not in out


def test_the_explicit_opt_out_skips_and_says_so_in_the_header(tmp_path):
    done = run_inner_pytest(tmp_path, NEEDS_NEO4J, LINEAGRAPH_TESTS_ALLOW_SKIP="1",
                            **unreachable())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "lineagraph tests: no Neo4j server for the tests" in done.stdout


def test_the_header_and_summary_name_the_server_used(tmp_path, neo4j_settings):
    done = run_inner_pytest(
        tmp_path, NEEDS_NEO4J,
        LINEAGRAPH_TEST_NEO4J_URI=neo4j_settings.uri,
        LINEAGRAPH_TEST_NEO4J_PASSWORD=neo4j_settings.password.get_secret_value())
    assert done.returncode == 0, done.stdout + done.stderr
    header = (f"lineagraph tests: Neo4j from the server given in "
              f"LINEAGRAPH_TEST_NEO4J_URI, {neo4j_settings.uri}")
    assert header in done.stdout
    assert "lineagraph tests used Neo4j from the server given" in done.stdout
    assert neo4j_settings.password.get_secret_value() not in done.stdout + done.stderr


def test_an_unknown_backend_fails_the_run_naming_the_choices(tmp_path):
    done = run_inner_pytest(tmp_path, NEEDS_NEO4J, LINEAGRAPH_TEST_BACKEND="podman")
    assert done.returncode == 3
    assert "LINEAGRAPH_TEST_BACKEND='podman'" in done.stdout + done.stderr
    assert "auto, testcontainers, java" in done.stdout + done.stderr


def test_the_tests_never_use_the_neo4j_uri_of_the_user(tmp_path):
    port = free_port()
    done = run_inner_pytest(
        tmp_path, "def test_which(neo4j_settings):\n    pass\n",
        NEO4J_URI="bolt://127.0.0.1:1", NEO4J_PASSWORD="x" * 12,
        LINEAGRAPH_TEST_NEO4J_URI=f"bolt://127.0.0.1:{port}",
        LINEAGRAPH_TEST_NEO4J_PASSWORD="irrelevant-123", LINEAGRAPH_TESTS_ALLOW_SKIP="1")
    assert "NEO4J_URI is ignored" in done.stdout
    # it tried the test server (closed here, so it skipped) and never port 1
    assert "1 skipped" in done.stdout and f"bolt://127.0.0.1:{port}" in done.stdout
    assert "bolt://127.0.0.1:1:" not in done.stdout and "127.0.0.1:1 " not in done.stdout
