"""Eight processes saving artifacts under the same names at once, readers running
meanwhile: versions unique and consecutive, no save lost, every read consistent."""

from __future__ import annotations

import pytest
from graphs import execution, script, session
from reliability import events, start_worker

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
