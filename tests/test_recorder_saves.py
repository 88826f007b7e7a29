"""`save` inside functions and blocks: durable when it returns, with a slice that re-runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from lineagraph import GraphLineaDB
from recorder_helpers import record, store_env


def test_a_save_inside_a_function_is_committed_before_save_returns(store, tmp_path,
                                                                    neo4j_settings, driver):
    # os._exit skips every flush: only what was committed when save returned survives
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import os
        import lineagraph
        rows = [3, 1, 2]
        def report(values):
            values.sort()
            lineagraph.save(values, "sorted_rows")
            os._exit(0)
        report(rows)
    """))
    done = subprocess.run([sys.executable, "-m", "lineagraph", "run", str(script)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=store_env(neo4j_settings, tmp_path))
    assert done.returncode == 0, done.stderr
    theirs = GraphLineaDB(driver, database=neo4j_settings.database,
                          blobs=tmp_path / "home" / "blobs")
    artifact = theirs.get_artifact_by_name("sorted_rows")
    assert theirs.load_node_value(artifact.node_id, artifact.execution_id) == [1, 2, 3]


def test_saves_inside_a_loop_get_one_version_each_and_their_slices_rerun(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        total = [0]
        for i in range(3):
            total[0] += i
            lineapy.save(list(total), "running_total")
    """)
    assert [recording.value("running_total", v) for v in range(3)] == [[0], [1], [3]]
    assert recording.rerun("running_total") == [3]


def test_a_save_inside_a_function_keeps_what_the_function_read(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        base = [1, 2]
        unrelated = [9]
        def grow(n):
            base.append(n)
            lineapy.save(list(base), "grown")
            return len(base)
        size = grow(3)
        unrelated.append(size)
        lineapy.save(unrelated, "unrelated")
    """)
    assert recording.value("grown") == [1, 2, 3]
    assert recording.rerun("grown") == [1, 2, 3]
    assert "base = [1, 2]" in recording.slice("grown")
    assert recording.rerun("unrelated") == [9, 3]
