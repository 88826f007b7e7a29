"""Eight processes saving artifacts under the same names at once, readers running
meanwhile: versions unique and consecutive, no save lost, every read consistent."""

from __future__ import annotations

import pytest
from graphs import execution, script, session
from reliability import check_blobs, events, start_worker

from lineagraph.models import CallNode, LiteralNode, LookupNode

pytestmark = pytest.mark.slow

WRITERS = 8
SAVES = 25  # per writer
NAMES = ["model", "features", "report"]
READERS = 2


def test_eight_writers_saving_the_same_names_get_unique_consecutive_versions(
        store, neo4j_settings):
    store.write_execution(execution("exec-1"))
    store.write_context(session("sess-1", "exec-1"))
    store.write_source_code(script())
    store.write_node(LookupNode(id="f", session_id="sess-1", name="f"))
    store.write_node(LiteralNode(id="one", session_id="sess-1", value=1))
    store.write_node(CallNode(id="call", session_id="sess-1", function_id="f",
                              positional_args=[{"id": "one"}]))
    store.commit()
    blobs = str(store.blobs.root)

    readers = [start_worker(neo4j_settings, "read", "30", blobs) for _ in range(READERS)]
    writers = [start_worker(neo4j_settings, "save", ",".join(NAMES), str(SAVES), "call",
                            "exec-1", blobs) for _ in range(WRITERS)]
    saved: list[tuple[str, int, str]] = []
    for proc in writers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        (report,) = [e for e in events(out) if e["event"] == "saved"]
        assert len(report["saves"]) == SAVES
        saved += [tuple(s) for s in report["saves"]]

    # no two saves got the same name and version, and none is missing
    assert len(saved) == WRITERS * SAVES
    assert len({(name, version) for name, version, _ in saved}) == len(saved)
    for name in NAMES:
        versions = sorted(v for n, v, _ in saved if n == name)
        assert versions == list(range(len(versions))), f"gap or duplicate in {name}"
    # what Neo4j holds is exactly what the writers were told
    store.clear_cache()
    stored = {(a.name, a.version, a.date_created.isoformat())
              for a in store.get_all_artifacts()}
    assert stored == set(saved)
    for name in NAMES:
        assert store.get_latest_artifact_version(name) == \
            max(v for n, v, _ in saved if n == name)

    for proc in readers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        (report,) = [e for e in events(out) if e["event"] == "read"]
        assert report["snapshots"] > 0
        assert report["problems"] == []


def test_deleting_artifacts_while_another_process_saves_the_same_value_leaves_no_dangling_blob(
        store, neo4j_settings):
    """The race the blob store's lock closes: process A deletes the artifacts using a blob
    while process B stores the same bytes again and commits a value pointing at them."""
    store.write_execution(execution("exec-1"))
    store.write_context(session("sess-1", "exec-1"))
    store.write_node(LookupNode(id="f", session_id="sess-1", name="f"))
    store.commit()
    blobs = str(store.blobs.root)
    savers = [start_worker(neo4j_settings, "churn-save", "20", "f", blobs) for _ in range(2)]
    deleter = start_worker(neo4j_settings, "churn-delete", "20", blobs)
    saved = refused = 0
    for proc in savers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        (report,) = [e for e in events(out) if e["event"] == "churned"]
        assert report["dangling"] == 0, "a value pointed at a removed blob"
        saved, refused = saved + report["saved"], refused + report["refused"]
    out, err = deleter.communicate(timeout=300)
    assert deleter.returncode == 0, err[-3000:]
    (report,) = [e for e in events(out) if e["event"] == "deleted"]
    assert saved > 20 and report["deleted"] > 0  # both sides really ran, interleaved
    store.clear_cache()
    check_blobs(store)  # every value in the graph has its blob, intact
    remaining = store.get_all_artifacts()
    assert len(remaining) == saved - report["deleted"]
    for artifact in remaining:
        assert store.load_node_value(artifact.node_id, artifact.execution_id) == \
            {"the same": "bytes every time"}
