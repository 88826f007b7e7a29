"""The command is a package: `python -m lineagraph` and `python -m lineagraph.cli` both
run it, and the library reports server progress through a callback, never by printing."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from lineagraph.server import ManagedServer


@pytest.mark.parametrize("module", ["lineagraph", "lineagraph.cli"])
def test_python_dash_m_runs_the_command(module):
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: lineagraph ")
    assert "import-lineapy" in done.stdout


def test_the_server_notifies_through_the_logger_by_default_and_prints_nothing(
        tmp_path, capsys, caplog):
    server = ManagedServer(home=tmp_path)
    with caplog.at_level(logging.INFO, logger="lineagraph.server"):
        server.notify("Starting the local Neo4j ...")
    assert capsys.readouterr() == ("", "")
    assert [r.getMessage() for r in caplog.records] == ["Starting the local Neo4j ..."]

