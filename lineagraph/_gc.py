"""Python's cyclic garbage collector, paused while bulk data is built."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees what is
    dropped); the collector runs as before afterwards. Building 100,000 models allocates
    millions of containers, each allocation counting towards a collection that finds
    nothing to free: 14 full collections took 5.3 s of a 12.3 s read.

    On leaving, what the block built is moved to the oldest generation without being
    scanned (``gc.freeze()`` then ``gc.unfreeze()``, two list splices): left in the
    youngest, the first collection after the block traversed all of it (0.5 s after
    reading 100,000 nodes) to find nothing. The next full collection scans it as it
    scans every long-lived object. Skipped when the process has frozen objects of its
    own, which ``unfreeze`` would thaw: after :func:`freeze` (a recording's),
    known without asking ``gc.get_freeze_count()``, which counts them one by one (7 ms
    for each of a recording's commits)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not _frozen and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


_frozen = False  # between freeze() and unfreeze(): the process has frozen objects


def freeze() -> None:
    """``gc.freeze()``: what exists now is left out of every collection until
    :func:`unfreeze`."""
    global _frozen
    gc.freeze()
    _frozen = True


def unfreeze() -> None:
    global _frozen
    _frozen = False
    gc.unfreeze()
