"""`lineagraph run` prepares the script (read, rewrite, compile) in a forked child while
it imports the store (lineagraph.recorder.prepare): what comes back is what the
process would have made itself, errors included. No database is involved here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from lineagraph.recorder import prepare as prep

SCRIPT = textwrap.dedent("""
    import math as m
    from os import path
    x = [1, 2.5, "three", None, b"4", (5, 6j)]
    d = {"k": x, **{"j": 1}}
    x.append(len(d) if d else -1)
    f = lambda v: v * 2
    y = [f(v) for v in range(3) if v]
    del d["j"]
    for i in range(2):
        x.append(i)
    print(m.floor(2.5), path.sep, y, x)
""")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the child is forked on Linux only")


def _same(a: prep.Prepared, b: prep.Prepared) -> None:
    assert (a.path, a.source) == (b.path, b.source)
    # code objects compare by their bytecode, constants (nested code included), names
    # and line tables; marshal's bytes can differ by reference flags alone
    assert a.code == b.code and a.code.co_filename == b.code.co_filename
    assert a.sites == b.sites


@linux_only
def test_the_child_prepares_what_the_process_would(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    forked = prep.Preparation(str(script), fork=True)
    assert forked._pid is not None  # a child really ran
    _same(forked.result(), prep.prepare(str(script)))


@linux_only
@pytest.mark.parametrize("content, exit_code", [(None, 2), ("x = (\n", 1), ("é = 'ok'\nif:\n", 1)])
def test_a_script_the_child_cannot_read_or_parse_gets_python_s_error(
        tmp_path, content, exit_code):
    script = tmp_path / "prog.py"
    if content is not None:
        script.write_text(content)
    with pytest.raises(prep.ScriptError) as inline:
        prep.prepare(str(script))
    with pytest.raises(prep.ScriptError) as forked:
        prep.Preparation(str(script), fork=True).result()
    assert (str(forked.value), forked.value.exit_code) == (str(inline.value), exit_code)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert plain.returncode == exit_code
    assert str(inline.value).strip().splitlines()[-1] in plain.stderr


@linux_only
def test_a_child_that_fails_leaves_the_work_to_the_process(tmp_path, monkeypatch):
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    monkeypatch.setattr(prep, "_answer", lambda script: ("failed",))
    preparation = prep.Preparation(str(script), fork=True)
    assert preparation._pid is not None
    _same(preparation.result(), prep.prepare(str(script)))


def test_no_fork_beside_another_thread():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not prep.can_fork()
    finally:
        stop.set()
        other.join()


@linux_only
def test_a_preparation_given_up_leaves_no_child_behind(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT * 200)  # an answer larger than a pipe holds: the child waits
    preparation = prep.Preparation(str(script), fork=True)
    pid = preparation._pid
    assert pid is not None
    preparation.close()
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(pid, os.WNOHANG)
    preparation.close()  # twice is harmless
    _same(preparation.result(), prep.prepare(str(script)))  # and it still answers


@pytest.mark.parametrize("line, script", [
    ("run prog.py", "prog.py"),
    ("run prog.py --epochs 3", "prog.py"),
    ("--uri bolt://127.0.0.1:7687 --home /tmp/h run -q prog.py -x", "prog.py"),
    ("--debug run --quiet -- prog.py", "prog.py"),
    ("run -o out.ipynb nb.ipynb", None),
    ("run nb.ipynb", None),
    ("run --help prog.py", None),
    ("--version", None),
    ("slice prog.py", None),
    ("run", None),
    ("", None),
])
def test_the_launcher_guesses_the_script_of_a_run_line(line, script):
    from lineagraph.launch import script_to_run

    assert script_to_run(line.split()) == script


@linux_only
def test_a_begun_preparation_serves_its_script_only(tmp_path, monkeypatch):
    one, two = tmp_path / "one.py", tmp_path / "two.py"
    one.write_text(SCRIPT)
    two.write_text("y = 2\n")
    monkeypatch.setattr(prep, "_begun", None)
    prep.begin(str(one))
    begun = prep._begun
    assert begun is not None and begun._pid is not None
    assert prep.take(str(one)) is begun  # the same script: the child's work is used
    _same(begun.result(), prep.prepare(str(one)))
    prep.begin(str(one))
    other = prep._begun
    pid = other._pid
    fresh = prep.take(str(two))  # another script: the begun child is stopped, reaped
    assert fresh is not other and other._pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    _same(fresh.result(), prep.prepare(str(two)))
