"""`lineagraph run` behaves as `python script.py` would, and records what ran."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from recorder_helpers import store_env, record


def _both(tmp_path, source: str, env: dict, *args: str):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    # by a relative name, as a person types it: Python makes __file__ absolute, not argv
    plain = subprocess.run([sys.executable, script.name, *args], cwd=tmp_path,
                           capture_output=True, text=True, env=env, timeout=120)
    recorded = subprocess.run([sys.executable, "-m", "lineagraph", "run", script.name, *args],
                              cwd=tmp_path, capture_output=True, text=True, env=env,
                              timeout=300)
    return plain, recorded


def test_run_gives_the_program_python_s_argv_name_cwd_output_and_exit_code(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    plain, recorded = _both(tmp_path, """
        import os, sys
        print(sys.argv[1:], __name__, os.getcwd() == os.path.dirname(os.path.abspath(__file__)))
        sys.exit(int(sys.argv[1]))
    """, env, "4", "--flag")
    assert recorded.returncode == plain.returncode == 4
    assert recorded.stdout == plain.stdout
    assert "lineagraph: recorded session" in recorded.stderr


def test_the_recorder_imports_no_library_the_program_does_not(
        empty_db, neo4j_settings, tmp_path):
    # is_mutable asked NumPy about every value, importing it into programs without it
    env = store_env(neo4j_settings, tmp_path)
    plain, recorded = _both(tmp_path, """
        import sys
        rows = [[1, 2], {"k": 3}, (4, [5])]
        rows[0].append(len(rows))
        print(rows, sorted(m for m in ("numpy", "pandas") if m in sys.modules))
    """, env)
    assert recorded.returncode == plain.returncode == 0, recorded.stderr
    assert recorded.stdout == plain.stdout == "[[1, 2, 3], {'k': 3}, (4, [5])] []\n"


@pytest.mark.parametrize("source", [
    # the docstring is __doc__, annotations are evaluated (no __future__ of lineagraph's)
    '"""My tool."""\nx: int = 1\nprint(repr(__doc__), __annotations__)\n',
    # a docstring, then future imports: still first once recorded
    '"""Doc."""\nfrom __future__ import annotations\nfrom __future__ import division\n'
    'def f(a: Later) -> None: pass\nprint(__doc__, f.__annotations__, annotations.optional)\n',
    # __file__ is absolute, argv[0] as given, tracebacks name the absolute path
    'import sys\nprint(__file__ == __import__("os").path.abspath(sys.argv[0]), sys.argv[0])\n'
    'raise ValueError("from the program")\n',
    # only the compiler refuses this one (it parses): Python's own message and exit code
    "for i in range(2):\n    pass\nbreak\n",
], ids=["docstring", "future", "file", "compile-error"])
def test_what_python_sets_up_for_a_script_is_the_same_recorded(
        empty_db, neo4j_settings, tmp_path, source):
    env = store_env(neo4j_settings, tmp_path)
    plain, recorded = _both(tmp_path, source, env)
    assert recorded.returncode == plain.returncode
    assert recorded.stdout == plain.stdout
    ours = [line for line in recorded.stderr.splitlines(keepends=True)
            if not line.startswith("lineagraph: recorded session")]
    assert "".join(ours) == plain.stderr


def test_a_long_program_that_patches_time_sleep_never_sees_the_recorder_call_it(
        empty_db, neo4j_settings, tmp_path):
    # the recorder lets its writer thread run (time.sleep(0)) while a part is being
    # written: long enough a program for several parts, which counts calls to sleep
    env = store_env(neo4j_settings, tmp_path)
    lines = ["import time", "calls = []", "time.sleep = lambda s: calls.append(s)"]
    lines += [f"v{i} = [{i}, {i} + 1]" for i in range(2500)]
    lines += ["time.sleep(1)", "print(calls, len(v2499))"]
    plain, recorded = _both(tmp_path, "\n".join(lines) + "\n", env)
    assert recorded.returncode == plain.returncode == 0, recorded.stderr
    assert recorded.stdout == plain.stdout == "[1] 2\n"
    nodes = int(re.search(r"\((\d+) nodes", recorded.stderr).group(1))
    assert nodes > 5000  # several parts, written while the program ran


def test_a_program_that_raises_shows_its_own_traceback_and_keeps_its_recording(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    plain, recorded = _both(tmp_path, """
        def boom(x):
            return x / 0
        data = [1, 2]
        data.append(3)
        boom(1)
    """, env)
    assert recorded.returncode == plain.returncode == 1
    user_lines = [line for line in recorded.stderr.splitlines() if line.startswith("  File")]
    plain_lines = [line for line in plain.stderr.splitlines() if line.startswith("  File")]
    assert user_lines == plain_lines and len(user_lines) == 2
    assert "ZeroDivisionError: division by zero" in recorded.stderr
    assert "lineagraph/recorder" not in recorded.stderr
    import re

    from lineagraph import GraphLineaDB
    session = re.search(r"recorded session (\S+)", recorded.stderr).group(1)
    db = GraphLineaDB(empty_db, database=neo4j_settings.database)
    kinds = {n.node_type.name for n in db.get_nodes_for_session(session)}
    assert {"CallNode", "MutateNode", "GlobalNode"} <= kinds


def test_a_missing_script_gets_python_s_message_and_exit_code(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    done = subprocess.run([sys.executable, "-m", "lineagraph", "run", "nope.py"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert "can't open file" in done.stderr and "nope.py" in done.stderr


def test_a_script_that_does_not_parse_gets_a_syntax_error_and_exit_1(
        empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    plain, recorded = _both(tmp_path, "x = (\n", env)
    assert recorded.returncode == plain.returncode == 1
    assert "SyntaxError" in recorded.stderr
    assert "recorded session" not in recorded.stderr


def test_an_unreachable_store_stops_before_the_program_runs(tmp_path):
    env = dict(os.environ, NEO4J_URI="bolt://127.0.0.1:9", NEO4J_PASSWORD="x",
               LINEAGRAPH_RETRY_SECONDS="0", LINEAGRAPH_HOME=str(tmp_path / "home"))
    script = tmp_path / "prog.py"
    script.write_text("open('ran.txt', 'w').write('yes')\n")
    done = subprocess.run([sys.executable, "-m", "lineagraph", "run", str(script)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr
    assert not (tmp_path / "ran.txt").exists()


def test_quiet_drops_the_summary_line(empty_db, neo4j_settings, tmp_path):
    env = store_env(neo4j_settings, tmp_path)
    script = tmp_path / "prog.py"
    script.write_text("print('hi')\n")
    done = subprocess.run([sys.executable, "-m", "lineagraph", "run", "--quiet", str(script)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout == "hi\n" and done.stderr == ""


def test_an_unpicklable_value_keeps_its_artifact_and_says_so_once(store, tmp_path, capsys):
    recording = record(store, tmp_path, """
        import lineapy
        gen = (i for i in range(3))
        lineapy.save(gen, "gen")
    """)
    artifact = store.get_artifact_by_name("gen")
    assert not store.node_value_in_db(artifact.node_id, artifact.execution_id)
    assert capsys.readouterr().err.count("cannot be pickled") == 1
    assert "gen = (i for i in range(3))" in recording.slice("gen")


def test_lineapy_is_only_shimmed_inside_a_recording(store, tmp_path):
    record(store, tmp_path, "import lineapy\nassert lineapy.save\n")
    assert "lineapy" not in sys.modules or not getattr(
        sys.modules["lineapy"], "__version__", "").endswith("+lineagraph")


def test_lineapy_apis_that_are_not_about_the_store_name_themselves(store, tmp_path, capsys):
    recording = record(store, tmp_path, """
        import lineapy
        lineapy.create_pipeline(["a"])
    """)
    assert recording.result.exit_code == 1
    assert "lineapy.create_pipeline is not available" in capsys.readouterr().err


def test_get_inside_a_recording_links_the_artifact_it_read(store, tmp_path):
    first = record(store, tmp_path, """
        import lineapy
        raw = [1, 2]
        lineapy.save(raw, "raw")
    """)
    second = record(store, tmp_path, """
        import lineapy
        raw = lineapy.get("raw").get_value()
        lineapy.save(raw + [3], "more")
    """)
    record(store, tmp_path, """
        import lineapy
        lineapy.save([9], "raw")
    """)
    read = store.get_artifact_by_name("raw", 0).node_id
    assert any(read in node.implicit_dependencies for node in second.of_type("CallNode"))
    assert 'get("raw", version=0)' in second.slice("more")
    assert first.session_id != second.session_id
    with pytest.raises(Exception):
        store.get_artifact_by_name("raw", 2)


def test_a_slice_keeping_the_save_keeps_lineagraph_save_as_it_keeps_lineapy_save(
        store, tmp_path):
    recording = record(store, tmp_path, """
        import lineagraph
        scores = [3, 1, 2]
        scores.sort()
        unrelated = "left out"
        lineagraph.save(scores, "scores")
    """)
    kept = recording.slice("scores", keep_save=True)
    assert 'lineagraph.save(scores, "scores")' in kept or "lineagraph.save(scores, 'scores')" in kept
    assert "import lineagraph" in kept and "unrelated" not in kept
    plain = recording.slice("scores")
    assert "lineagraph.save" not in plain and "scores.sort()" in plain
