"""``save`` inside a recording (a mixin of the Recorder)."""

from __future__ import annotations

import datetime
import sys
from typing import Any, Optional

from ..models import PositionalArgument
from .common import _PendingArtifact


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
        """Called by ``save``: with the node of the value when the call was traced;
        from inside a function or block, the artifact waits for that statement's node."""
        date = datetime.datetime.now()
        if node_id is None:
            self.pending_saves.append((value, name, date))
            return _PendingArtifact(name)
        artifact, why = self.sink.save(name, node_id, value, date)
        if why is not None:
            print(f"lineagraph: the value of artifact {name!r} cannot be pickled ({why}); "
                  "its artifact and lineage are saved without a value", file=sys.stderr)
        return artifact

    def _flush_saves(self, node_id: str) -> None:
        pending, self.pending_saves = self.pending_saves, []
        for value, name, date in pending:
            artifact, why = self.sink.save(name, node_id, value, date)
            if why is not None:
                print(f"lineagraph: the value of artifact {name!r} cannot be pickled "
                      f"({why}); its artifact and lineage are saved without a value",
                      file=sys.stderr)

