"""lineagraph._gc.paused_gc: no cyclic collection inside, none wasted after."""

import gc

from lineagraph._gc import paused_gc


def test_what_the_block_built_is_old_and_the_collector_runs_again():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        built = [[i] for i in range(1000)]
    assert gc.isenabled()
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(item) in young for item in built)  # moved, not left to scan
    assert any(item is built[0] for item in gc.get_objects(generation=2))
    cycle = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # cyclic garbage is still collected


def test_a_process_that_froze_objects_keeps_them_frozen():
    frozen = [[i] for i in range(10)]
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with paused_gc():
            [[i] for i in range(100)]
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
    assert frozen


def test_nested_blocks_leave_the_collector_to_the_outer_one():
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_after_lineagraphs_own_freeze_the_frozen_are_kept_without_counting_them(monkeypatch):
    from lineagraph import _gc

    _gc.freeze()
    try:
        before = gc.get_freeze_count()

        def refused() -> int:
            raise AssertionError("counted the frozen objects one by one")

        monkeypatch.setattr(_gc.gc, "get_freeze_count", refused)
        with paused_gc():
            [[i] for i in range(100)]
        monkeypatch.undo()
        assert gc.get_freeze_count() == before
    finally:
        _gc.unfreeze()
    assert gc.get_freeze_count() == 0
