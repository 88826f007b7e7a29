"""`lineagraph neo4j start|status|password|stop` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


pytestmark = [pytest.mark.server]


def lineagraph(home, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["LINEAGRAPH_HOME"] = str(home)
    env["LINEAGRAPH_NEO4J_BACKEND"] = "java"  # the same test where Docker runs
    return subprocess.run([sys.executable, "-m", "lineagraph.cli", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_start_status_password_stop_from_the_command_line(tmp_path):
    stopped = lineagraph(tmp_path, "neo4j", "status")
    assert stopped.returncode == 3 and "stopped" in stopped.stdout

    started = lineagraph(tmp_path, "neo4j", "start")
    try:
        assert started.returncode == 0, started.stderr
        assert "Starting the local Neo4j 5.26" in started.stderr
        assert "running" in started.stdout and "/browser/" in started.stdout
        password = (tmp_path / "neo4j" / "password").read_text().strip()
        assert password not in started.stdout + started.stderr

        status = lineagraph(tmp_path, "neo4j", "status", "--json")
        assert status.returncode == 0
        facts = json.loads(status.stdout)
        assert facts["running"] is True and facts["backend"] == "java"
        assert facts["version"].startswith("5.26.")
        assert facts["bolt_uri"].startswith("bolt://127.0.0.1:")
        assert facts["password_file"] == str(tmp_path / "neo4j" / "password")
        assert password not in status.stdout

        again = lineagraph(tmp_path, "neo4j", "start")
        assert again.returncode == 0 and "already running" in again.stderr

        asked = lineagraph(tmp_path, "neo4j", "password")
        assert asked.stdout.strip() == password

        info = lineagraph(tmp_path, "info")  # no NEO4J_URI: uses the local server
        assert info.returncode == 0 and "5.26" in info.stdout and "community" in info.stdout
    finally:
        done = lineagraph(tmp_path, "neo4j", "stop")
    assert done.returncode == 0 and "Stopped" in done.stdout
    after = lineagraph(tmp_path, "neo4j", "status", "--json")
    assert after.returncode == 3 and json.loads(after.stdout)["running"] is False
