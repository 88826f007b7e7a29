"""The recorder commits a long program in parts, from a writer thread, while it runs."""

from __future__ import annotations

import threading

import pytest

from lineagraph.errors import StoreUnavailableError
from lineagraph.recorder import sink

from recorder_helpers import record

LONG = """
    import lineagraph
    total = 0
    for i in range(3):
        total = total + i
    values = []
    {lines}
    lineagraph.save(values, "values")
    lineagraph.save(total, "total")
"""


def _long(statements: int) -> str:
    lines = "\n    ".join(f"values.append({i} * 2 + total)" for i in range(statements))
    return LONG.format(lines=lines)


@pytest.fixture
def commits(store, monkeypatch):
    """The threads each commit of ``store`` ran on, and the nodes it sent."""
    seen: list[tuple[str, int]] = []
    original = store.commit

    def counted():
        stats = original()
        seen.append((threading.current_thread().name, stats.nodes))
        return stats

    monkeypatch.setattr(store, "commit", counted)
    return seen


def test_a_long_program_is_committed_in_parts_by_the_writer_thread(store, tmp_path, commits,
                                                                   monkeypatch):
    monkeypatch.setattr(sink, "FLUSH_NODES", 50)
    recording = record(store, tmp_path, _long(120))
    assert all(thread.startswith("lineagraph-writer") for thread, _ in commits)
    assert sum(1 for _, nodes in commits if nodes == 50) >= 4  # parts of FLUSH_NODES
    # every part reached the store, whole: the slices re-run to the saved values
    assert len(recording.nodes()) == recording.result.nodes
    assert recording.rerun("values") == [i * 2 + 3 for i in range(120)]
    assert recording.rerun("total") == 3
    assert threading.active_count() == 1 or not any(
        t.name.startswith("lineagraph-writer") for t in threading.enumerate())


def test_the_store_api_inside_a_program_reads_between_parts(store, tmp_path, monkeypatch):
    monkeypatch.setattr(sink, "FLUSH_NODES", 20)
    steps = "\n    ".join(f"seen.append(len(lineagraph.get('base').get_code()))\n    "
                          f"base.append({i} + len(seen))" for i in range(30))
    recording = record(store, tmp_path, f"""
    import lineagraph
    base = [1, 2, 3]
    lineagraph.save(base, "base")
    seen = []
    {steps}
    lineagraph.save(base, "grown")
    lineagraph.save(seen, "seen")
    """)
    seen = recording.value("seen")
    assert len(seen) == 30 and len(set(seen)) == 1  # the same slice each time
    assert recording.value("grown") == [1, 2, 3, *(i + i + 1 for i in range(30))]


def test_a_part_that_fails_is_raised_at_the_next_save_not_inside_the_program(
        store, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sink, "FLUSH_NODES", 30)
    original = store.commit
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 2:
            raise StoreUnavailableError("Neo4j went away (planted by the test)")
        return original()

    monkeypatch.setattr(store, "commit", failing)
    recording = record(store, tmp_path, _long(60).replace(
        '    lineagraph.save(values, "values")',
        '    print("the program ran to its save")\n    lineagraph.save(values, "values")'))
    captured = capsys.readouterr()
    assert "the program ran to its save" in captured.out
    assert recording.result.exit_code == 1
    assert "StoreUnavailableError: Neo4j went away (planted by the test)" in captured.err
    assert 'lineagraph.save(values, "values")' in captured.err  # at the save line
    assert len(calls) == 2  # nothing was sent after the part that failed
    # what was committed before the failure is stored and consistent
    assert 0 < len(recording.nodes()) < recording.result.nodes


def test_the_program_lets_the_writer_run_while_a_part_is_in_flight(store, monkeypatch,
                                                                  tmp_path):
    # the program's thread releases the GIL (sink._yield, time.sleep(0)) every
    # YIELD_EVERY nodes while the writer holds a part, and never when it holds none
    yields: list[float] = []
    monkeypatch.setattr(sink, "_yield", yields.append)
    (tmp_path / "short").mkdir()
    record(store, tmp_path / "short", _long(10))
    assert yields == []

    original = store.commit
    in_flight = threading.Event()

    def slow():  # a commit that takes a while: the program runs on meanwhile
        in_flight.set()
        threading.Event().wait(0.5)
        return original()

    monkeypatch.setattr(store, "commit", slow)
    (tmp_path / "long").mkdir()
    recording = record(store, tmp_path / "long", _long(1500))
    assert in_flight.is_set() and recording.result.nodes > 2 * sink.FIRST_PART
    assert yields and set(yields) == {0}
    assert len(yields) <= recording.result.nodes // sink.YIELD_EVERY
    assert recording.value("values")[-1] == 1499 * 2 + 3
