"""Small shared pieces of the recorder's hooks."""

from __future__ import annotations

import os
from typing import Any, Optional

from .analysis import Reach

_HERE = os.path.dirname(os.path.abspath(__file__))


class PendingArtifact:
    def __init__(self, name: str):
        self.name = name


class Plan:
    def __init__(self) -> None:
        self.candidates: list = []     # (object, node) pairs to fingerprint
        self.known_mutated: list = []
        self.mutable_args: list = []
        self.global_reads: dict = {}
        self.implicit: list = []
        self.reach = Reach()
        self.view_all = False


class Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = Missing()


def is_iterator(value: Any) -> bool:
    return hasattr(type(value), "__next__") and hasattr(type(value), "__iter__") \
        and not isinstance(value, (str, bytes))


def strip_recorder_frames(err: BaseException, seen: Optional[set] = None) -> None:
    """Take the recorder's frames out of a traceback (and out of the exceptions chained
    to it), so that it shows the program's own lines as Python would."""
    seen = set() if seen is None else seen
    if id(err) in seen:
        return
    seen.add(id(err))
    tb = err.__traceback__
    kept = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_HERE):
            kept.append(tb)
        tb = tb.tb_next
    for first, second in zip(kept, kept[1:]):
        first.tb_next = second
    if kept:
        kept[-1].tb_next = None
    err.__traceback__ = kept[0] if kept else None
    for chained in (err.__cause__, err.__context__):
        if chained is not None:
            strip_recorder_frames(chained, seen)
