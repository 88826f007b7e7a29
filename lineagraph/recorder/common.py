"""Small shared pieces of the recorder's hooks."""

from __future__ import annotations

from typing import Any

from .analysis import Reach


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
