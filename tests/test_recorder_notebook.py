"""Recording notebooks and IPython sessions through real Jupyter kernels (ipykernel),
on the real Neo4j: `lineagraph run NOTEBOOK.ipynb` and `%load_ext lineagraph`."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from lineagraph import GraphLineaDB
from lineagraph.models import SessionType
from lineagraph.recorder.notebook_run import kernel_manager

from recorder_helpers import store_env, RERUN, _saved

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
# recorded by LineaPy 0.2.3 here (tests/fixtures/lineapy_recorded/record_with_lineapy.py)
MIXED = Path(__file__).parent / "fixtures" / "lineapy_recorded" / "mixed_script_notebook"


def _store(empty_db, neo4j_settings, tmp_path) -> GraphLineaDB:
    return GraphLineaDB(empty_db, database=neo4j_settings.database,
                        blobs=tmp_path / "home" / "blobs")


def _notebook(folder: Path, *cells: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path


def _run(path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lineagraph", "run", str(path), *args],
                          cwd=path.parent, capture_output=True, text=True, env=env,
                          timeout=300)


def _rerun(store: GraphLineaDB, name: str, folder: Path, env: dict | None = None):
    """The value the slice of ``name`` (its save line kept, its ``get`` calls pinned to
    the versions read) computes in a fresh interpreter, in an empty folder."""
    from lineagraph.recorder.api import LineaArtifact

    artifact = LineaArtifact(store, store.get_artifact_by_name(name))
    code = artifact.get_code(keep_lineapy_save=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "slice.py").write_text(code)
    done = subprocess.run([*RERUN, "slice.py", name, str(folder / "value.pkl")],
                          cwd=folder, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"slice failed:\n{code}\n{done.stderr}"
    return _saved(folder / "value.pkl", name)


def _session(result: subprocess.CompletedProcess) -> str:
    found = re.search(r"recorded session (\S+) \((\d+) nodes", result.stderr)
    assert found, result.stderr
    return found.group(1)


def test_the_fixture_notebook_records_each_cell_with_values_equal_to_lineapy_s(
        empty_db, neo4j_settings, tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    shutil.copy(FIXTURES / "nb_basic_cells" / "notebook.ipynb", folder)
    before = (folder / "notebook.ipynb").read_bytes()
    done = _run(folder / "notebook.ipynb", store_env(neo4j_settings, tmp_path))
    assert done.returncode == 0, done.stderr
    assert (folder / "notebook.ipynb").read_bytes() == before  # nothing written into it
    store = _store(empty_db, neo4j_settings, tmp_path)
    session = store.get_session_context(_session(done))
    assert session.environment_type is SessionType.JUPYTER
    expected = json.loads((FIXTURES / "nb_basic_cells" / "expected.json").read_text())
    artifacts = expected["artifacts"] if isinstance(expected, dict) else expected
    assert len(artifacts) == 3
    for art in artifacts:
        ours = store.get_artifact_by_name(art["name"], art["version"])
        value = store.load_node_value(ours.node_id, ours.execution_id)
        with open(FIXTURES / "nb_basic_cells" / "pickles" / art["pickle"], "rb") as f:
            assert value == pickle.load(f), art["name"]
        assert _rerun(store, art["name"], tmp_path / f"rerun-{art['name']}") == value
    # one source code per executed cell (the first, %load_ext lineapy, loads the
    # recorder: the cells after it are recorded), by their execution counts
    assert _cell_counts(store, session.id) == list(range(2, 9))
    assert 'lineapy.save(inventory, "nb_inventory")' in \
        store.get_source_code_for_session(session.id)
    # the slice as a notebook: one cell per source cell that contributes, in order
    out = tmp_path / "slice.ipynb"
    sliced = subprocess.run([sys.executable, "-m", "lineagraph", "slice", "nb_short",
                             "--notebook", "-o", str(out)], capture_output=True, text=True,
                            env=store_env(neo4j_settings, tmp_path), timeout=120)
    assert sliced.returncode == 0, sliced.stderr
    sources = [c.source for c in nbformat.read(str(out), as_version=4).cells]
    assert sources == [
        'inventory = {"bolts": 40, "nuts": 25}\norders = []',
        'orders.append(("bolts", 5))\norders.append(("nuts", 30)); orders.append(("bolts", 2))',
        "for item, qty in orders:\n    inventory[item] = inventory[item] - qty\n"
        "short = sorted(k for k, v in inventory.items() if v < 0)"]


def _cell_counts(store, session_id: str) -> list[int]:
    from lineagraph.mapping import source_code_from_props

    return sorted(source_code_from_props(r["code"]).location.execution_count
                  for r in store.read_all("store.cells_for_session", session_id=session_id))


def test_a_failing_cell_is_named_and_what_ran_before_it_is_kept(
        empty_db, neo4j_settings, tmp_path):
    path = _notebook(tmp_path, "import lineagraph\nkept = [1, 2]\nlineagraph.save(kept, 'kept')",
                     "def boom(x):\n    return x / 0\nboom(1)", "never = 1")
    out = tmp_path / "executed.ipynb"
    done = _run(path, store_env(neo4j_settings, tmp_path), "--output", str(out))
    assert done.returncode == 1
    assert "cell 2 of nb.ipynb failed: ZeroDivisionError: division by zero" in done.stderr
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "kept")) == [1, 2]
    executed = nbformat.read(str(out), as_version=4)
    error = [o for o in executed.cells[1].outputs if o.output_type == "error"][0]
    trace = "\n".join(error.traceback)
    assert "boom" in trace and "lineagraph/recorder" not in trace
    assert not executed.cells[2].get("outputs")  # the run stopped at the failing cell


def test_ctrl_c_keeps_the_cells_before_it_and_dies_of_sigint_as_a_script_does(
        empty_db, neo4j_settings, tmp_path):
    """Ctrl-C in a terminal signals lineagraph's process group (the kernel has a session
    of its own): lineagraph stops the kernel's cell, keeps the cells before it recorded
    and dies of SIGINT."""
    path = _notebook(tmp_path, "import lineagraph\nkept = [1, 2]\nlineagraph.save(kept, 'kept')",
                     "import pathlib, time\npathlib.Path('started').touch()\n"
                     "while True:\n    time.sleep(0.05)", "never = 1")
    out = tmp_path / "executed.ipynb"
    proc = subprocess.Popen([sys.executable, "-m", "lineagraph", "run", str(path),
                             "--output", str(out)], cwd=tmp_path, text=True,
                            env=store_env(neo4j_settings, tmp_path), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(2400):  # the second cell is running
            if (tmp_path / "started").exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "started").exists(), proc.communicate(timeout=60)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGINT, err
    assert "interrupted at cell 2 of nb.ipynb" in err
    session = re.search(r"recorded session (\S+) \(", err).group(1)
    store = _store(empty_db, neo4j_settings, tmp_path)
    node_id, execution_id = _ids(store, "kept")
    assert store.get_node_by_id(node_id).session_id == session
    assert store.load_node_value(node_id, execution_id) == [1, 2]
    executed = nbformat.read(str(out), as_version=4)
    assert not executed.cells[2].get("outputs")  # the run stopped in the second cell


@pytest.mark.parametrize("cell, presses, code", [
    # the cell catches the KeyboardInterrupt and ends: the run stops before the next one
    ("try:\n    while True:\n        time.sleep(0.05)\nexcept KeyboardInterrupt:\n    pass",
     1, -signal.SIGINT),
    # the cell ignores it: a second Ctrl-C kills the kernel and stops lineagraph
    ("signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)",
     2, 130),
])
def test_ctrl_c_stops_a_run_whose_cell_catches_or_ignores_it(
        empty_db, neo4j_settings, tmp_path, cell, presses, code):
    path = _notebook(tmp_path, "import lineagraph\nkept = [1, 2]\nlineagraph.save(kept, 'kept')",
                     "import pathlib, signal, time\npathlib.Path('started').touch()\n" + cell,
                     "import pathlib\npathlib.Path('third').touch()")
    proc = subprocess.Popen([sys.executable, "-m", "lineagraph", "run", str(path)],
                            cwd=tmp_path, text=True, env=store_env(neo4j_settings, tmp_path),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        for _ in range(2400):
            if (tmp_path / "started").exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "started").exists(), proc.communicate(timeout=60)
        for _ in range(presses):
            time.sleep(1)  # the cell is in its loop
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert not (tmp_path / "third").exists()  # the run stopped at the second cell
    if presses == 1:  # stopped before the third cell ran
        assert "interrupted at cell 3 of nb.ipynb" in err
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "kept")) == [1, 2]


def _ids(store, name):
    artifact = store.get_artifact_by_name(name)
    return artifact.node_id, artifact.execution_id


def test_last_values_display_a_semicolon_hides_them_and_magics_keep_working(
        empty_db, neo4j_settings, tmp_path):
    path = _notebook(
        tmp_path,
        "import lineapy\nx = [3, 1, 2]",
        "x",
        "len(x);",
        "%time y = sum(x)",
        "%%capture captured\nprint('hidden')\nz = y * 10",
        "echoed = !echo hello",
        "lineapy.save(z, 'z')\nlineapy.save(echoed, 'echoed')\ncaptured.stdout",
    )
    out = tmp_path / "executed.ipynb"
    done = _run(path, store_env(neo4j_settings, tmp_path), "--output", str(out))
    assert done.returncode == 0, done.stderr
    executed = nbformat.read(str(out), as_version=4)
    results = [[o for o in c.outputs if o.output_type == "execute_result"]
               for c in executed.cells]
    assert results[1][0].data["text/plain"] == "[3, 1, 2]"
    assert results[2] == []  # `;`
    assert results[6][0].data["text/plain"] == "'hidden\\n'"  # %%capture still captured
    store = _store(empty_db, neo4j_settings, tmp_path)
    # loaded by `lineagraph run` itself (silently): every cell recorded, counted as run
    assert _cell_counts(store, _session(done)) == list(range(1, 8))
    assert store.load_node_value(*_ids(store, "z")) == 60
    assert list(store.load_node_value(*_ids(store, "echoed"))) == ["hello"]
    from lineagraph.slicing import get_program_slice
    code = str(get_program_slice(store, artifacts=[("z", None)]))
    # the magics the recorder cannot follow are kept as written, whole
    assert "%time y = sum(x)" in code
    assert "%%capture captured\nprint('hidden')\nz = y * 10" in code
    assert "x = [3, 1, 2]" in code and "echo" not in code


def test_load_ext_lineapy_in_the_first_cell_runs_unchanged(empty_db, neo4j_settings,
                                                           tmp_path):
    path = _notebook(tmp_path, "%load_ext lineapy", "import lineapy\nv = {'a': 1}",
                     "lineapy.save(v, 'v')")
    done = _run(path, store_env(neo4j_settings, tmp_path))
    assert done.returncode == 0, done.stderr
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "v")) == {"a": 1}
    assert _rerun(store, "v", tmp_path / "rerun") == {"a": 1}


class Kernel:
    """A real ipykernel of this interpreter, cells sent one by one as a frontend does."""

    def __init__(self, folder: Path, env: dict):
        folder.mkdir(parents=True, exist_ok=True)
        self.km = kernel_manager(folder)
        self.km.start_kernel(env=env, cwd=str(folder))
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str) -> dict:
        outputs = []
        reply = self.client.execute_interactive(code, timeout=120,
                                                output_hook=outputs.append)
        reply["outputs"] = outputs
        return reply

    def restart(self) -> None:
        self.km.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=60)

    def close(self) -> None:
        self.client.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture
def kernel(neo4j_settings, tmp_path):
    kernel = Kernel(tmp_path / "kernel", store_env(neo4j_settings, tmp_path))
    yield kernel
    kernel.close()


def test_cells_run_again_and_out_of_order_are_recorded_as_executed(
        kernel, empty_db, neo4j_settings, tmp_path):
    assert kernel.run("%load_ext lineagraph")["content"]["status"] == "ok"
    for code in ["import lineagraph\na = [1]", "a.append(2)", "a.append(2)", "b = len(a)",
                 "a = [5]", "c = a + [b]\nlineagraph.save(c, 'c')"]:
        assert kernel.run(code)["content"]["status"] == "ok", code
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "c")) == [5, 3]
    assert _rerun(store, "c", tmp_path / "rerun") == [5, 3]
    node = store.get_node_by_id(store.get_artifact_by_name("c").node_id)
    # each execution a cell of its own, with its count
    assert _cell_counts(store, node.session_id) == [2, 3, 4, 5, 6, 7]


def test_a_restarted_kernel_records_a_new_session_and_unload_stops(
        kernel, empty_db, neo4j_settings, tmp_path):
    kernel.run("%load_ext lineagraph")
    kernel.run("import lineagraph\nlineagraph.save([1], 'first')")
    kernel.restart()
    kernel.run("%load_ext lineagraph")
    kernel.run("import lineagraph\nlineagraph.save([2], 'second')")
    stopped = kernel.run("%unload_ext lineagraph")
    assert stopped["content"]["status"] == "ok"
    after = kernel.run("import lineagraph\nlineagraph.save([3], 'third')")
    assert after["content"]["status"] == "error"  # save records lineage: not recording
    # after the recording stopped, the store API and a new recording work
    got = kernel.run("print(lineagraph.get('second').get_value())")
    assert got["content"]["status"] == "ok"
    assert "[2]" in "".join(m["content"].get("text", "") for m in got["outputs"])
    assert kernel.run("%load_ext lineagraph")["content"]["status"] == "ok"
    assert kernel.run("lineagraph.save([4], 'fourth')")["content"]["status"] == "ok"
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "fourth")) == [4]
    first, second = (store.get_node_by_id(store.get_artifact_by_name(n).node_id).session_id
                     for n in ("first", "second"))
    assert first != second
    with pytest.raises(Exception):
        store.get_artifact_by_name("third")


def test_names_a_magic_binds_without_showing_them_are_bound_by_it(
        kernel, empty_db, neo4j_settings, tmp_path):
    # `%run helper.py` defines `scale` and `BASE`: its text names neither; the helper
    # and a module are written by `%%writefile` cells, whose slices must keep them
    kernel.run("%load_ext lineagraph")
    for code in ["import lineagraph\nunused = 1",
                 "%%writefile helper.py\nBASE = 7\ndef scale(v):\n    return v * 3\n",
                 "%%writefile shapes.py\nSIDES = 4\n",
                 "%run helper.py", "r = scale(BASE)", "lineagraph.save(r, 'r')",
                 "from shapes import SIDES\nsides = SIDES * 2",
                 "lineagraph.save(sides, 'sides')"]:
        assert kernel.run(code)["content"]["status"] == "ok", code
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "r")) == 21
    from lineagraph.slicing import get_program_slice
    code = str(get_program_slice(store, artifacts=[("r", None)]))
    assert "%run helper.py" in code and "r = scale(BASE)" in code, code
    assert "%%writefile helper.py" in code and "shapes" not in code, code
    assert "unused" not in code, code
    # an import of a module the session wrote stays after the write (not moved up)
    code = str(get_program_slice(store, artifacts=[("sides", None)]))
    assert code.index("%%writefile shapes.py") < code.index("from shapes import SIDES"), code
    assert "helper" not in code, code


def test_a_cell_the_recorder_cannot_rewrite_runs_unrecorded_and_recording_stops(
        kernel, empty_db, neo4j_settings, tmp_path):
    kernel.run("%load_ext lineagraph")
    kernel.run("import lineagraph\nlineagraph.save([1], 'before')")
    # a recorder fault planted for the next cells (this cell is still rewritten)
    kernel.run("import lineagraph.recorder.ipython as rec\n"
               "rec.rewrite = lambda *a, **k: 1 / 0")
    cell = kernel.run("x = 6 * 7\nprint(x)")
    assert cell["content"]["status"] == "ok"  # the cell ran, as without the recorder
    texts = [m["content"].get("text", "") for m in cell["outputs"]]
    assert "42\n" in texts
    assert any("cannot record cell" in t and "ZeroDivisionError" in t for t in texts)
    assert kernel.run("print(x + 1)")["content"]["status"] == "ok"
    # not recording any more: a save says so rather than save nothing
    assert kernel.run("lineagraph.save(x, 'after')")["content"]["status"] == "error"
    # and `lineagraph run NOTEBOOK` hears the recording is incomplete
    said = kernel.run("print(rec.summary())")
    summary = json.loads("".join(m["content"].get("text", "") for m in said["outputs"]
                                 if m["content"].get("name") == "stdout"))
    assert "cannot record cell" in summary["error"]
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "before")) == [1]  # committed, kept
    session = store.get_node_by_id(store.get_artifact_by_name("before").node_id).session_id
    # the cells up to the fault are recorded; the failing one and those after it are not
    assert _cell_counts(store, session) == [2, 3]


def test_a_notebook_after_a_script_reads_its_artifact_and_slices_across_sessions(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    script = tmp_path / "fetch.py"
    script.write_text("import lineapy\nraw = [12.5, 14.0, 9.5, 11.0]\n"
                      "raw.append(13.5)\nlineapy.save(raw, 'weather_raw')\n")
    done = subprocess.run([sys.executable, "-m", "lineagraph", "run", str(script)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    path = _notebook(tmp_path, "%load_ext lineapy",
                     "import lineapy\nraw = lineapy.get('weather_raw').get_value()",
                     "mean = sum(raw) / len(raw)\nunused = max(raw)",
                     "lineapy.save(round(mean, 2), 'weather_mean')")
    done = _run(path, env)
    assert done.returncode == 0, done.stderr
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert store.load_node_value(*_ids(store, "weather_mean")) == 12.1
    assert _rerun(store, "weather_mean", tmp_path / "rerun", env) == 12.1
    from lineagraph.recorder.api import LineaArtifact
    code = LineaArtifact(store, store.get_artifact_by_name("weather_mean")).get_code()
    assert "get('weather_raw', version=0)" in code and "unused" not in code
    # lineage crosses sessions: weather_mean is found downstream of weather_raw v0
    impact = subprocess.run([sys.executable, "-m", "lineagraph", "lineage", "weather_raw",
                             "--downstream", "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert impact.returncode == 0, impact.stderr
    assert "weather_mean" in impact.stdout


@pytest.mark.filterwarnings("ignore::UserWarning:sklearn")  # LineaPy's model: sklearn 1.7
def test_a_mixed_script_and_notebook_history_has_lineapy_s_values_and_slices_that_rerun(
        empty_db, neo4j_settings, tmp_path):
    # a script, a notebook reading its artifact, a script reading the notebook's two
    folder = tmp_path / "mixed"
    shutil.copytree(MIXED, folder, ignore=shutil.ignore_patterns("db.sqlite", "pickles",
                                                                  "*.json"))
    env = store_env(neo4j_settings, tmp_path)
    sessions = []
    for program in ("session_01.py", "session_02.ipynb", "session_03.py"):
        done = _run(folder / program, env)
        assert done.returncode == 0, f"{program}: {done.stderr}"
        sessions.append(_session(done))
    store = _store(empty_db, neo4j_settings, tmp_path)
    assert [store.get_session_context(s).environment_type for s in sessions] == [
        SessionType.SCRIPT, SessionType.JUPYTER, SessionType.SCRIPT]
    expected = json.loads((MIXED / "expected.json").read_text())
    assert len(expected["artifacts"]) == 6
    for art in expected["artifacts"]:
        ours = store.get_artifact_by_name(art["name"], art["version"])
        assert store.get_node_by_id(ours.node_id).session_id == sessions[art["session_index"]]
        value = store.load_node_value(ours.node_id, ours.execution_id)
        with open(MIXED / "pickles" / art["pickle"], "rb") as f:
            _assert_same(value, pickle.load(f), art["name"])
        again = _rerun(store, art["name"], tmp_path / f"rerun-{art['name']}", env)
        _assert_same(again, value, art["name"])
    # the notebook's slices are cells' lines only: the cell that only displays and the
    # describe() nobody saved are left out
    from lineagraph.recorder.api import LineaArtifact
    code = LineaArtifact(store, store.get_artifact_by_name("city_means")).get_code()
    assert "by_city = " in code and "get_dummies" not in code and "describe" not in code
    code = LineaArtifact(store, store.get_artifact_by_name("weather_features")).get_code()
    assert "by_city" not in code and "raw.head" not in code


def _assert_same(ours, theirs, name: str) -> None:
    """Equal values; a frame's strings (values, labels) may be `str` here and `object`
    in LineaPy's pandas, and a model fitted by another scikit-learn release equal to
    within floating point."""
    import numpy as np
    import pandas as pd

    if isinstance(theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False,
                                      check_column_type=False, check_index_type=False,
                                      obj=name)
    elif isinstance(theirs, pd.Series):
        pd.testing.assert_series_equal(ours, theirs, check_dtype=False,
                                       check_index_type=False, obj=name)
    elif hasattr(theirs, "coef_"):
        assert type(ours) is type(theirs), name
        assert np.allclose(ours.coef_, theirs.coef_), name
        assert np.allclose(ours.intercept_, theirs.intercept_), name
        assert list(ours.classes_) == list(theirs.classes_), name
    else:
        assert ours == theirs, name


def test_an_unreachable_store_stops_before_the_kernel_runs_anything(tmp_path):
    env = dict(os.environ, NEO4J_URI="bolt://127.0.0.1:9", NEO4J_PASSWORD="x",
               LINEAGRAPH_RETRY_SECONDS="0", LINEAGRAPH_HOME=str(tmp_path / "home"))
    path = _notebook(tmp_path, "open('ran.txt', 'w').write('yes')")
    done = _run(path, env)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr
    assert not (tmp_path / "ran.txt").exists()


def test_a_missing_notebook_or_a_stray_argument_is_refused(tmp_path):
    done = _run(tmp_path / "absent.ipynb", dict(os.environ))
    assert done.returncode == 2 and "absent.ipynb" in done.stderr
    path = _notebook(tmp_path, "x = 1")
    done = _run(path, dict(os.environ), "--epochs", "3")
    assert done.returncode == 2 and "a notebook takes no arguments" in done.stderr
