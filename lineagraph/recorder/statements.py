"""Hooks of assignment targets, ``del`` and imports (a mixin of the Recorder)."""

from __future__ import annotations

import itertools
from typing import Any

from ..models import GlobalNode, PositionalArgument, get_new_id
from .common import MISSING, is_iterator
from .keys import plain_key


class StatementHooks:
    def bind(self, s: int, name: str) -> None:
        node = self.site_node[s]
        self.bind_name(name, node)
        value = self.g.get(name, MISSING)
        if value is not MISSING and self.mutable(value):
            self.track(value, node)

    def bind_name(self, name: str, node: str) -> None:
        self.bindings[name] = node
        self.sink.variable(node, name)

    def rebind_global(self, name: str, now: Any, call_id: str, site) -> str | None:
        """After a statement or call that (re)bound the global ``name`` to ``now``: the
        id of a GlobalNode bound to it, or None with the binding dropped when the name
        is gone (``now`` is MISSING)."""
        if now is MISSING:
            self.bindings.pop(name, None)
            return None
        node = self.write(GlobalNode(id=get_new_id(), session_id=self.session_id,
                                     name=name, call_id=call_id,
                                     source_location=self.loc(site)))
        self.bind_name(name, node)
        return node

    def stash(self, s: int, value: Any) -> None:
        self.stashed_values[s] = value
        self.site_node[s] = self.node_of(self.sites[s].children[0])

    def stashed(self, s: int) -> Any:
        return self.stashed_values[s]

    def unpack(self, s: int, value: Any) -> None:
        site = self.sites[s]
        count, star = site.info["count"], site.info["star"]
        if star is None:
            items = list(itertools.islice(iter(value), count + 1))
            if len(items) > count:
                raise ValueError(f"too many values to unpack (expected {count})")
            if len(items) < count:
                raise ValueError(f"not enough values to unpack (expected {count}, "
                                 f"got {len(items)})")
        else:
            flat = list(value)
            if len(flat) < count - 1:
                raise ValueError(f"not enough values to unpack (expected at least "
                                 f"{count - 1}, got {len(flat)})")
            after = count - 1 - star
            items = flat[:star] + [flat[star:len(flat) - after]] + flat[len(flat) - after:]
        source = self.node_of(site.children[0])
        node = self.call_node(site, self.lookup("l_unpack_sequence"),
                              [PositionalArgument(id=source),
                               PositionalArgument(id=self.literal(count, site))])
        if is_iterator(value):
            self.mutate(value, node)
        self.stashed_values[s] = (value, items)
        self.site_node[s] = node

    def item(self, s: int) -> Any:
        site = self.sites[s]
        parent = site.children[0]
        container, items = self.stashed_values[parent]
        value = items[site.info["index"]]
        inputs = {self.site_node[parent]}
        implicit: list = []
        if self.mutable(value):
            self.bound_result(value, "", inputs, implicit)
        node = self.call_node(site, self.lookup("getitem"),
                              [PositionalArgument(id=self.site_node[parent]),
                               PositionalArgument(id=self.literal(site.info["index"], site))],
                              implicit=implicit)
        self.adopt(value, node, [container] if self.mutable(container) else [])
        if self.mutable(value) and self.mutable(container):
            self.view(container, value)
        self.site_node[s] = node
        return value

    def setattr_(self, s: int, obj: Any, value: Any) -> None:
        site = self.sites[s]
        setattr(obj, site.info["attr"], value)
        self._store(site, s, "setattr", obj, [self.node_of(site.children[0]),
                                              self.literal(site.info["attr"], site),
                                              self.node_of(site.children[1])], value)

    def setitem_(self, s: int, obj: Any, index: Any, value: Any) -> None:
        site = self.sites[s]
        obj[index] = value
        self._store(site, s, "setitem", obj, [self.node_of(c) for c in site.children], value,
                    frozenset([index]) if plain_key(index) else None)

    def delattr_(self, s: int, obj: Any) -> None:
        site = self.sites[s]
        delattr(obj, site.info["attr"])
        self._store(site, s, "delattr", obj, [self.node_of(site.children[0]),
                                              self.literal(site.info["attr"], site)], None)

    def delitem_(self, s: int, obj: Any, index: Any) -> None:
        site = self.sites[s]
        del obj[index]
        self._store(site, s, "delitem", obj, [self.node_of(c) for c in site.children], None,
                    frozenset([index]) if plain_key(index) else None)

    def _store(self, site, s, fn: str, obj, args: list, value, keys=None) -> None:
        node = self.call_node(site, self.lookup(fn), [PositionalArgument(id=a) for a in args])
        if self.mutable(obj):
            self.ensure(obj, args[0])
            self.mutate(obj, node, keys)
            if value is not None and self.mutable(value):
                self.ensure(value, args[-1])
                self.view(obj, value)
        self.site_node[s] = node

    def delname(self, s: int) -> None:
        self.bindings.pop(self.sites[s].info["name"], None)

    def imported(self, s: int) -> None:
        from .imports import record_import
        record_import(self, self.sites[s])

