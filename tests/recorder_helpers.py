"""Record a small program into the test store and re-run slices of it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

from lineagraph.models import NodeType
from lineagraph.recorder.api import LineaArtifact
from lineagraph.recorder.runner import run

RERUN = [sys.executable, "-m", "lineagraph.recorder.rerun"]


def _saved(out: Path, name: str):
    """The value the re-run saved as ``name`` (an assertion error when it saved none)."""
    with open(out, "rb") as handle:
        outcome, value = pickle.load(handle)
    assert outcome == "ok", f"{name!r} was not saved; saved: {value}"
    return value


class Recording:
    def __init__(self, store, folder: Path, result):
        self.store = store
        self.folder = folder
        self.result = result
        self.session_id = result.session_id
        store.clear_cache()

    def nodes(self):
        return self.store.get_nodes_for_session(self.session_id)

    def of_type(self, node_type: str):
        return [n for n in self.nodes() if n.node_type is NodeType[node_type]]

    def artifact(self, name: str, version=None) -> LineaArtifact:
        return LineaArtifact(self.store, self.store.get_artifact_by_name(name, version))

    def value(self, name: str, version=None):
        return self.artifact(name, version).get_value()

    def slice(self, name: str, version=None, keep_save: bool = False) -> str:
        return self.artifact(name, version).get_code(keep_lineapy_save=keep_save)

    def rerun(self, name: str, version=None, files: dict | None = None):
        """The value the slice (with its save line) computes in a fresh interpreter, in
        a fresh folder holding only ``files``."""
        code = self.slice(name, version, keep_save=True)
        folder = self.folder.parent / f"rerun-{name}-{os.getpid()}"
        folder.mkdir(exist_ok=True)
        for fname, text in (files or {}).items():
            (folder / fname).write_text(text)
        (folder / "slice.py").write_text(code)
        out = folder / "value.pkl"
        done = subprocess.run([*RERUN, "slice.py", name, str(out)],
                              cwd=folder, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"slice failed:\n{code}\n{done.stderr}"
        return _saved(out, name)


def record(store, tmp_path: Path, source: str, args=(), files: dict | None = None,
           monkeypatch=None) -> Recording:
    folder = tmp_path / "program"
    folder.mkdir(exist_ok=True)
    for fname, text in (files or {}).items():
        (folder / fname).write_text(text)
    script = folder / "script.py"
    script.write_text(textwrap.dedent(source))
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = run(str(script), list(args), store, quiet=True)
    finally:
        os.chdir(cwd)
    return Recording(store, folder, result)


def plain_value(tmp_path: Path, source: str, name: str, files: dict | None = None):
    """What the program saves as ``name`` when run by plain Python (save captured)."""
    folder = tmp_path / "plain"
    folder.mkdir(exist_ok=True)
    for fname, text in (files or {}).items():
        (folder / fname).write_text(text)
    (folder / "script.py").write_text(textwrap.dedent(source))
    out = folder / "value.pkl"
    done = subprocess.run([*RERUN, "script.py", name, str(out)],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return _saved(out, name)


def store_env(neo4j_settings, tmp_path: Path) -> dict:
    """The environment of a `lineagraph` subprocess that uses the test store."""
    env = dict(os.environ)
    env.update(NEO4J_URI=neo4j_settings.uri, NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database,
               LINEAGRAPH_HOME=str(tmp_path / "home"))
    return env
