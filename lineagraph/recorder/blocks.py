"""Compound statements and expressions with scopes of their own (a mixin of the
Recorder): each runs unchanged and becomes one node, reading the globals it reads,
binding GlobalNodes for the names it binds, and mutating what its fingerprints say."""

from __future__ import annotations

import re
import types
from typing import Any

from ..models import PositionalArgument, get_new_id
from . import files
from .analysis import is_user_callable, reach_of
from .artifacts import OpenStatement
from .common import MISSING, Plan
from .objects import fingerprint, module_state
from .rewrite import Site

# names IPython itself sets in the user's namespace (output history, `!cmd`'s exit code)
# and module dunders (`%run` copies the script's `__doc__`, `__file__`, ...)
_SHELL_NAMES = re.compile(r"^(_|__|___|_i+|_i?\d+|_oh|_ih|_dh|_exit_code|In|Out|exit|quit"
                          r"|get_ipython|__\w+__)$")


class BlockHooks:
    def enter(self, s: int) -> None:
        site = self.sites[s]
        if site.kind == "lazy":
            for child in site.children:
                self.site_node[child] = None
            return None
        self.entered[s] = self._prepare(site)
        return None

    def lazy(self, s: int, _entered: None, value: Any) -> Any:
        site = self.sites[s]
        ran = [PositionalArgument(id=self.site_node[c]) for c in site.children
               if self.site_node[c] is not None]
        node = self.call_node(site, self.lookup(f"l_{site.info['op']}"), ran)
        if self.mutable(value):
            self.track(value, node)
        self.site_node[s] = node
        return value

    def opaque(self, s: int, _entered: None, value: Any) -> Any:
        self.site_node[s] = self._finish(self.sites[s], self.entered.pop(s), "l_eval", value)
        return value

    def block_enter(self, s: int) -> None:
        self.entered[s] = self._prepare(self.sites[s])

    def block_exit(self, s: int) -> None:
        state = self.entered.pop(s, None)
        if state is not None:
            self.site_node[s] = self._finish(self.sites[s], state, "l_exec_statement",
                                             MISSING)

    def _prepare(self, site: Site) -> dict:
        names = site.names
        plan = Plan()
        reads: dict[str, str] = {}
        seen: set[int] = set()
        values = []
        for name in names.reads:
            if name not in self.g:
                continue
            value = self.g[name]
            values.append(value)
            if name in self.bindings or self.mutable(value):
                reads[name] = self.resolve(name, value)
            if isinstance(value, types.ModuleType):
                for state in module_state(value):
                    latest = self.ensure(state, reads.get(name) or self.lookup(name))
                    plan.implicit.append(latest)
                    if id(state) not in seen:
                        seen.add(id(state))
                        plan.candidates.append((state, latest))
            elif self.mutable(value) and id(value) not in seen:
                seen.add(id(value))
                plan.candidates.append((value, reads[name]))
        reach = reach_of([v for v in values if is_user_callable(v, self.g)], self.g)
        for name in sorted(reach.loads):
            if name in self.g and name not in reads:
                value = self.g[name]
                if name in self.bindings or self.mutable(value):
                    reads[name] = self.resolve(name, value)
                if self.mutable(value) and id(value) not in seen:
                    seen.add(id(value))
                    if isinstance(value, types.ModuleType):
                        for state in module_state(value):
                            latest = self.ensure(state, reads[name])
                            plan.implicit.append(latest)
                            plan.candidates.append((state, latest))
                    else:
                        plan.candidates.append((value, reads[name]))
        for held in reach.held:
            if self.mutable(held) and id(held) not in seen and \
                    not isinstance(held, types.ModuleType):
                seen.add(id(held))
                plan.candidates.append((held, None))
        binds = list(names.binds) + sorted(reach.stores)
        state = {
            "reads": reads, "plan": plan, "binds": binds, "star": names.star_import,
            "before": {n: self.g.get(n, MISSING) for n in binds},
            "keys": set(self.g) if names.star_import else None,
            # a magic: every global as it was, to find what it bound (`%run helper.py`)
            "globals": dict(self.g) if site.info.get("dynamic") else None,
            "fingerprints": {id(o): fingerprint(o) for o, _ in plan.candidates},
        }
        state["capture"] = files.begin()
        helper = "l_exec_statement" if site.kind == "block" else "l_eval"
        code = self.literal(site.info["code"], None)
        state["code"], state["helper"] = code, helper
        state["open"] = OpenStatement(site, self.lookup(helper), [PositionalArgument(id=code)], (),
                              reads, plan.implicit, state["capture"])
        self.open_frames.append(state["open"])
        return state

    def _finish(self, site: Site, state: dict, helper: str, value: Any) -> str:
        files.end(state["capture"])
        if state["open"] in self.open_frames:
            self.open_frames.remove(state["open"])
        plan: Plan = state["plan"]
        reads = state["reads"]
        call_id = get_new_id()
        inputs = set(reads.values())
        implicit = [n for n in plan.implicit if n not in inputs]
        implicit += self.file_reads(state["capture"]) + state["open"].early
        binds = list(state["binds"])
        if state["star"]:
            binds += sorted(set(self.g) - state["keys"])
        before = state["before"]
        if state["globals"] is not None:
            was = state["globals"]
            found = [n for n, v in self.g.items() if v is not was.get(n, MISSING)
                     and not _SHELL_NAMES.match(n)]
            before = {**{n: was.get(n, MISSING) for n in found}, **before}
            binds += found
        new_names = []
        for name in dict.fromkeys(binds):
            now = self.g.get(name, MISSING)
            if now is before.get(name, MISSING):
                continue
            new_names.append(name)
            if now is not MISSING and self.mutable(now):
                self.bound_result(now, call_id, inputs | set(implicit), implicit)
        if value is not MISSING and self.mutable(value):
            self.bound_result(value, call_id, inputs | set(implicit), implicit)
        self.call_node(site, self.lookup(helper), [PositionalArgument(id=state["code"])], (),
                       reads, implicit, node_id=call_id)
        for obj, _ in plan.candidates:
            fp = state["fingerprints"][id(obj)]
            if fp is None or fp != fingerprint(obj):
                self.mutate(obj, call_id)
        self.file_writes(state["capture"], call_id, None)
        holders = [o for o, _ in plan.candidates]
        for name in new_names:
            now = self.g.get(name, MISSING)
            node = self.rebind_global(name, now, call_id, site)
            if node is not None:
                self.adopt(now, node, holders)
        if value is not MISSING:
            self.adopt(value, call_id, holders)
        self._flush_saves(call_id)
        return call_id

