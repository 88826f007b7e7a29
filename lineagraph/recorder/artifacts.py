"""``save`` inside a recording (a mixin of the Recorder)."""

from __future__ import annotations

import datetime
import sys
from typing import Any, Optional

from ..models import PositionalArgument
from .common import PendingArtifact


class ArtifactHooks:
    def _save_call(self, site, s, fn, pos, kw, fn_node, positional, keyword, arg_children,
                   keys, kw_children) -> Any:
        if pos:
            value_node = self.node_of(arg_children[0])
        elif "value" in kw:
            value_node = self.node_of(kw_children[keys.index("value")])
        else:
            return fn(*pos, **kw)  # let it raise its own TypeError
        value = pos[0] if pos else kw["value"]
        if self.mutable(value):
            value_node = self.ensure(value, value_node)
        self.in_call += 1
        try:
            result = fn(*pos, _node_id=value_node, **kw)
        finally:
            self.in_call -= 1
        if pos:  # the artifact is its first argument after mutations, as in LineaPy
            positional = [PositionalArgument(id=value_node)] + positional[1:]
        self.site_node[s] = self.call_node(site, fn_node, positional, keyword)
        return result

    def save_artifact(self, value: Any, name: str, node_id: Optional[str]):
        """Called by ``save``: with the node of the value when the call was traced.
        From inside a function, block or opaque expression, the statement running has no
        node yet: the artifact gets an *early node* of that statement (what it read so
        far), written and committed with the artifact before ``save`` returns; the
        statement's node, written when it ends, depends on its early nodes."""
        date = datetime.datetime.now()
        if node_id is None and self.open_frames:
            node_id = self._early_node(self.open_frames[-1])
        if node_id is None:  # save called by no statement of the program (atexit, ...)
            self.pending_saves.append((value, name, date))
            return PendingArtifact(name)
        artifact, why = self.sink.save(name, node_id, value, date)
        if why is not None:
            self._unpicklable(name, why)
        return artifact

    def _early_node(self, frame: "OpenStatement") -> str:
        inputs = {frame.function_id, *(p.id for p in frame.positional),
                  *(k.value for k in frame.keyword), *frame.reads.values()}
        implicit = [n for n in frame.implicit + self.file_reads(frame.capture)
                    if n not in inputs]
        node = self.call_node(frame.site, frame.function_id, frame.positional,
                              frame.keyword, frame.reads, implicit)
        frame.early.append(node)
        return node

    def _flush_saves(self, node_id: str) -> None:
        pending, self.pending_saves = self.pending_saves, []
        for value, name, date in pending:
            _, why = self.sink.save(name, node_id, value, date)
            if why is not None:
                self._unpicklable(name, why)

    def _unpicklable(self, name: str, why: str) -> None:
        print(f"lineagraph: the value of artifact {name!r} cannot be pickled ({why}); "
              "its artifact and lineage are saved without a value", file=sys.stderr)


class OpenStatement:
    """A statement running (a call, block or opaque expression) whose node is not
    written yet: what its node will read, for the early nodes of saves inside it."""

    __slots__ = ("site", "function_id", "positional", "keyword", "reads", "implicit",
                 "capture", "early")

    def __init__(self, site, function_id: str, positional, keyword, reads: dict,
                 implicit: list, capture):
        self.site, self.function_id = site, function_id
        self.positional, self.keyword = list(positional), list(keyword)
        self.reads, self.implicit, self.capture = dict(reads), list(implicit), capture
        self.early: list[str] = []
