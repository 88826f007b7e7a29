"""Every ```python block of README.md runs as shown, against the test suite's Neo4j.

Each block runs on its own, on an empty database, in a fresh working directory, with
``NEO4J_*`` set to the test server (so ``GraphLineaDB.from_environment()`` reaches it)
and ``LINEAGRAPH_HOME`` in a temporary directory. A line ending in ``# -> TEXT`` must
print TEXT. A block that is not meant to run has no place in the README.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)
PRINTS = re.compile(r"#\s*->\s*(.+?)\s*$", re.M)


def python_blocks() -> list:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1).strip().lower() in ("python", "py", "python3"):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(pytest.param(match.group(2), line, id=f"README.md:{line}"))
    return blocks


def test_the_readme_has_python_blocks_to_run():
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("code, line", python_blocks())
def test_the_readme_block_runs_as_shown(code, line, neo4j_settings, empty_db, tmp_path,
                                        monkeypatch, capsys):
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_settings.username)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password.get_secret_value())
    monkeypatch.setenv("NEO4J_DATABASE", neo4j_settings.database)
    monkeypatch.setenv("LINEAGRAPH_HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # compiled with README.md's line numbers, so a failure's traceback points into it
    exec(compile("\n" * line + code, str(README), "exec"), {"__name__": "__main__"})
    printed = capsys.readouterr().out
    for expected in PRINTS.findall(code):
        assert expected in printed, f"README.md:{line}: {expected!r} not printed"
