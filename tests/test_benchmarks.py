"""The benchmark runner at a tiny size: its workload, its output shape, its Markdown.

Times nothing and asserts no speed. LineaPy's side runs only where
``benchmarks/.lineapy-venv`` exists (``make bench-venv``); the checks then cover its
columns and the import too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import workload  # noqa: E402

LINEAPY = (ROOT / "benchmarks" / ".lineapy-venv" / "bin" / "python").exists()


def test_workload_has_the_fixed_slice_the_mix_and_independent_copies():
    session = workload.build(1000, "s1")
    nodes = session["nodes"]
    assert len(nodes) == 1000 and len({n["id"] for n in nodes}) == 1000
    kinds = {k: sum(n["node_type"] == k for n in nodes) for k in workload.MIX}
    assert kinds["CallNode"] > kinds["LiteralNode"] > kinds["MutateNode"] > 0
    ids = {n["id"] for n in nodes}
    for n in nodes:  # every reference points at a node of the session
        refs = [a["id"] for a in n.get("positional_args", [])]
        refs += [n[k] for k in ("function_id", "source_id", "call_id") if k in n]
        assert set(refs) <= ids
    # slice lines hold only slice nodes
    on_slice_lines = [n for n in nodes if n["source_location"]
                      and n["source_location"]["lineno"] <= workload.SLICE_LINES]
    assert len(on_slice_lines) == workload.SLICE_NODES - 1  # the `add` lookup has no line
    copy = workload.tagged(session, "r1-")
    assert copy["session_id"] == "r1-s1" and copy["slice"]["artifact"] == "r1-s1-slice"
    assert all(n["id"].startswith("r1-") for n in copy["nodes"])
    assert {n["id"] for n in nodes} == ids  # the original is untouched
    assert workload.edge_count(copy) == workload.edge_count(session)


def test_runner_output_at_a_tiny_size(empty_db, neo4j_settings, tmp_path):
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri,
               NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database or "neo4j")
    out, md = tmp_path / "bench.json", tmp_path / "BENCH.md"
    # with LineaPy: its one-commit write at 100 nodes, its write in commits of 64 nodes at
    # 200 (above --lineapy-max), the import at both
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "100,200",
           "--repeat", "1", "--read-repeat", "1", "--shipped-max", "0", "--json", str(out),
           "--lineapy-max", "100", "--lineapy-chunk", "64", "--write-md", str(md)]
    if not LINEAPY:
        cmd.append("--skip-lineapy")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert neo4j_settings.password.get_secret_value() not in done.stdout + done.stderr

    result = json.loads(out.read_text())
    ours = result["results"]["200"]["ours"]
    assert ours["nodes"] == 200 and ours["edges"] > 200
    for key in ("commit", "buffer", "floor", "statements"):
        assert len(ours[key]) == 1, key
    assert all(t > 0 for t in ours["commit"] + ours["floor"])
    assert len(ours["get_nodes_for_session"]) == 1 and len(ours["slice"]) == 20
    assert len(ours["get_artifact_by_name"]) == 50
    assert ours["maxrss_kib"] > 10_000
    shapes = {"maps", "lists", "elements"}
    assert set(ours["floor_shapes"]) == shapes and ours["floor_shape"] in shapes
    assert all(len(v) == 1 and v[0] > 0 for v in ours["floor_shapes"].values())
    assert ours["transactions"] == [1]
    assert ours["server_memory"]["commit"]["heap"] > 0
    assert {"store.write_edges", "slicing.ancestors",
            "store.nodes_for_session"} <= set(ours["profile"])
    # the largest statement writing new nodes (which one depends on the groups' sizes)
    assert any(name.startswith("store.write_new_nodes_") for name in ours["profile"])
    assert ours["profile"]["slicing.ancestors"]["rows"] == workload.SLICE_NODES
    # the edges as the commit sends them, ends by element id: every node is written first
    by_element = ours["profile"]["store.write_edges_by_element_id"]
    assert by_element["params"] == ours["profile"]["store.write_edges"]["params"]
    assert by_element["rows"] == 1 and by_element["db_hits"] > 0
    # what the floor wrote is removed once timed: later measures run on lineagraph's data
    records, _, _ = empty_db.execute_query(
        "MATCH (n) WHERE any(label IN labels(n) WHERE label STARTS WITH 'BenchFloor') "
        "RETURN count(n) AS n", database_=neo4j_settings.database)
    assert records[0]["n"] == 0
    facts = result["facts"]
    assert facts["neo4j driver"] and facts["Neo4j"].startswith("Neo4j")
    assert "start" in facts["load average (1, 5, 15 min)"]

    one_commit = result["results"]["100"]["lineapy"]
    lineapy = result["results"]["200"]["lineapy"]
    if LINEAPY:
        assert one_commit["lineapy"] == lineapy["lineapy"] == "0.2.3"
        assert len(one_commit["write"]) == 1 and one_commit["write_chunked"] == []
        assert lineapy["write"] == lineapy["write_shipped"] == []
        assert len(lineapy["write_chunked"]) == 1 and lineapy["chunk"] == 64
        assert len(lineapy["get_nodes_for_session"]) == len(lineapy["slice"]) == 1
        assert result["results"]["100"]["ours"]["import"]["nodes"] == 100
        assert ours["import"]["nodes"] == 200
        assert ours["import"]["store_nodes_before"] > 0
        assert 0 < ours["import"]["read_seconds"] < ours["import"]["seconds"]
    else:
        assert lineapy is None and "import" not in ours

    text = md.read_text()
    for heading in ("## Machine", "## Targets", "## Write", "## Floor shapes",
                    "## Server memory", "## How cost grows", "## Read", "## Slice",
                    "## Import", "## Memory", "## PROFILE of the hot queries"):
        assert heading in text, heading
    assert "benchmarks/run.py --sizes 100,200 --repeat 1" in text
    if LINEAPY:
        assert "200 nodes: LineaPy's one-commit write was not timed" in text
        assert "in commits of 64 nodes" in text
    write_rows = [line for line in text.splitlines() if line.startswith("| 200 |")]
    # one row per table by size: write, floor shapes, server memory, read, slice, import,
    # memory
    assert len(write_rows) == 7
    # the printed tables too
    for title in ("Write", "Floor shapes", "Server memory", "How cost grows", "Read",
                  "Slice", "Import", "Memory", "Targets"):
        assert title in done.stdout
