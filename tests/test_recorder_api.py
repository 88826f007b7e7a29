"""The program's side of a recording: ``save``, ``get``, ``delete`` and
``artifact_store`` inside ``lineagraph run`` and in plain Python, bad names, two programs
saving at once, and a program stopped by Ctrl-C."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from lineagraph import GraphLineaDB
from recorder_helpers import store_env


def _script(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _run(tmp_path, env, *cmd, timeout=300):
    return subprocess.run(list(cmd), cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=timeout)


def _record(tmp_path, env, name: str):
    return _run(tmp_path, env, sys.executable, "-m", "lineagraph", "run", name)


def test_delete_and_artifact_store_work_inside_a_recording_and_in_plain_python(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    _script(tmp_path, "saves.py", """
        import lineagraph
        for i in range(4):
            lineagraph.save([i], "runs")
        lineagraph.save("other", "other")
        print(lineagraph.delete("runs", version=1), lineagraph.delete("runs", version="latest"))
        print(sorted((a.name, a.version) for a in lineagraph.artifact_store()))
        print(lineagraph.get("runs").version, lineagraph.get("runs").get_value())
    """)
    recorded = _record(tmp_path, env, "saves.py")
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.splitlines() == [
        "1 1", "[('other', 0), ('runs', 0), ('runs', 2)]", "2 [2]"]

    # plain Python, no recording: the same store, read and changed
    _script(tmp_path, "plain.py", """
        import lineagraph
        print(lineagraph.get("runs", version=0).get_value(), len(lineagraph.artifact_store()))
        print(lineagraph.delete("runs", version="all"))
        print(sorted(a.name for a in lineagraph.artifact_store()))
        try:
            lineagraph.save(1, "x")
        except Exception as err:
            print(type(err).__name__)
    """)
    plain = _run(tmp_path, env, sys.executable, "plain.py")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines() == ["[0] 3", "2", "['other']", "LineagraphError"]


# (the name as the program writes it, what its error says, as ascii() shows it)
@pytest.mark.parametrize("bad, says", [
    ('""', ["ValueError", "an artifact name must not be empty"]),
    ('"   "', ["ValueError", "must not be empty or only spaces"]),
    (r'"two\nlines"', ["ValueError", "contains the control character '\\\\n'"]),
    (r'"two\u2028lines"', ["ValueError", "contains the control character '\\\\u2028'"]),
    ('"n" * 5000', ["ValueError", "artifact name 'nnn", "5,000 bytes long"]),
    (r'"bad\ud800"', ["ValueError", "contains '\\\\ud800'", "lone surrogate"]),
    ("42", ["TypeError", "an artifact name is a string, not int"]),
], ids=["empty", "spaces", "newline", "line-separator", "too-long", "surrogate",
        "not-a-string"])
def test_a_bad_artifact_name_is_refused_at_the_save_line_and_the_recording_goes_on(
        empty_db, neo4j_settings, tmp_path, bad, says):
    env = store_env(neo4j_settings, tmp_path)
    _script(tmp_path, "bad.py", f"""
        import lineagraph
        value = [1, 2]
        try:
            lineagraph.save(value, {bad})
        except (TypeError, ValueError) as err:
            print(type(err).__name__, ascii(str(err)))
        value.append(3)
        lineagraph.save(value, "after")
        lineagraph.save(value, {bad})
    """)
    recorded = _record(tmp_path, env, "bad.py")
    assert recorded.returncode == 1
    caught = recorded.stdout.splitlines()[0]
    assert all(text in caught for text in says), caught
    # the uncaught one: Python's traceback, ending at the program's own line
    # (3.13 marks the call under the line: ~~~^^^)
    assert re.search(r'File ".*bad\.py", line 10, in <module>\n    lineagraph\.save\(value, '
                     r'.*\n(?: *[~^]+\n)?' + says[0] + ": ", recorded.stderr), recorded.stderr
    assert "lineagraph/" not in recorded.stderr.split("lineagraph: recorded session")[0]
    # and nothing failed: the summary counts the save in between
    assert "1 artifacts saved" in recorded.stderr and "incomplete" not in recorded.stderr
    db = GraphLineaDB(empty_db, database=neo4j_settings.database)
    assert [(a.name, a.version) for a in db.get_all_artifacts()] == [("after", 0)]


def test_two_programs_saving_the_same_name_at_once_get_consecutive_versions(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    # each starts saving once both are ready (a file each), so that their saves overlap
    _script(tmp_path, "writer.py", """
        import os, sys, time
        import lineagraph
        open(sys.argv[1] + ".ready", "w").close()
        waited = 0
        while not all(os.path.exists(who + ".ready") for who in "ab"):
            time.sleep(0.01)
            waited += 1
            if waited > 6000:
                sys.exit("the other program never started")
        for i in range(8):
            lineagraph.save((sys.argv[1], i), "shared")
    """)
    procs = [subprocess.Popen([sys.executable, "-m", "lineagraph", "run", "-q",
                               "writer.py", who], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for who in ("a", "b")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    db = GraphLineaDB(empty_db, database=neo4j_settings.database,
                      blobs=tmp_path / "home" / "blobs")  # the programs' LINEAGRAPH_HOME
    saved = sorted(a.version for a in db.get_all_artifacts() if a.name == "shared")
    assert saved == list(range(16))
    from lineagraph.recorder.api import LineaArtifact
    got = sorted(LineaArtifact(db, db.get_artifact_by_name("shared", v)).get_value()
                 for v in saved)
    assert got == sorted((who, i) for who in "ab" for i in range(8))


def test_a_program_stopped_by_ctrl_c_keeps_its_recording_and_dies_as_python_does(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    _script(tmp_path, "loop.py", """
        import atexit, time
        import lineagraph
        import threading
        atexit.register(print, "exit handler ran", flush=True)
        def late():  # a thread of the program's own: Python waits for it before exiting
            time.sleep(0.5)
            print("thread done", flush=True)
        data = [1, 2, 3]
        lineagraph.save(data, "before_ctrl_c")
        threading.Thread(target=late).start()
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    """)
    outcomes = []
    for cmd in ([sys.executable, "-c", "import sys, types; m = types.ModuleType('lineagraph');"
                 " m.save = lambda *a: None; sys.modules['lineagraph'] = m;"
                 " sys.argv = ['loop.py']; exec(compile(open('loop.py').read(), 'loop.py',"
                 " 'exec'))"],
                [sys.executable, "-m", "lineagraph", "run", "loop.py"]):
        # a child inherits an ignored SIGINT (a test run started in the background by a
        # shell without job control), and Python then installs no KeyboardInterrupt:
        # from a handler instead, the child starts with SIGINT's default, as in a terminal
        saved = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finally:
            signal.signal(signal.SIGINT, saved)
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "the program never started"
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        outcomes.append((proc.returncode, out, err))
    (plain_code, plain_out, plain_err), (code, out, err) = outcomes
    assert code == plain_code == -signal.SIGINT  # killed by SIGINT, as Python dies of it
    assert out == plain_out == "thread done\nexit handler ran\n"
    assert "KeyboardInterrupt" in err and 'File "' in err and "lineagraph/recorder" not in err
    session = re.search(r"recorded session (\S+)", err).group(1)
    db = GraphLineaDB(empty_db, database=neo4j_settings.database)
    artifact = db.get_artifact_by_name("before_ctrl_c")
    assert db.get_node_by_id(artifact.node_id).session_id == session
