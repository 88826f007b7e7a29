"""Operators and calls (a mixin of the Recorder): each call runs for the program and
becomes a CallNode; its effects come from the known ones (:mod:`.effects`) or from
fingerprints of everything the call could touch, taken before and after it, and from
the files it read and wrote and the globals it rebound."""

from __future__ import annotations

import operator
import sys
import types
from typing import Any, Optional

from ..models import KeywordArgument, PositionalArgument, get_new_id
from . import effects, files
from .analysis import Reach, is_user_callable, is_user_class, reach_of
from .artifacts import OpenStatement
from .common import MISSING, Plan, is_iterator
from .keys import MISSING_KEY, method_keys
from .objects import covers_state, fingerprint, module_state, reachable, shares_state
from .rewrite import Site

_OPS = {"not_in": lambda a, b: a not in b, "contains": lambda a, b: a in b}
_SCOPE_BUILTINS = {id(f): f for f in (globals, locals, vars, dir, eval, exec)}


class CallHooks:
    def binop(self, s: int, left: Any, right: Any) -> Any:
        site = self.sites[s]
        op = site.info["op"]
        fn = _OPS.get(op) or getattr(operator, op)
        if op == "contains":   # `a in b` is contains(b, a)
            return self.invoke(site, s, lambda a, b: a in b, self.lookup("contains"),
                               [right, left], [site.children[1], site.children[0]])
        return self.invoke(site, s, fn, self.lookup(op), [left, right], site.children)

    def unary(self, s: int, operand: Any) -> Any:
        site = self.sites[s]
        op = site.info["op"]
        return self.invoke(site, s, getattr(operator, op), self.lookup(op), [operand],
                           site.children)

    def call(self, s: int, fn: Any, args: list, kwargs: list) -> Any:
        site = self.sites[s]
        stars, keys = site.info["stars"], site.info["keys"]
        arg_children = site.children[1:1 + len(args)]
        kw_children = site.children[1 + len(args):]
        pos: list = []
        for value, starred in zip(args, stars):
            if starred:
                pos.extend(value)
            else:
                pos.append(value)
        kw: dict = {}
        for key, value in zip(keys, kwargs):
            pairs = [(k, value[k]) for k in value.keys()] if key is None else [(key, value)]
            for k, v in pairs:
                if k in kw:
                    raise TypeError(f"{getattr(fn, '__qualname__', fn)!s}() got multiple "
                                    f"values for keyword argument '{k}'")
                kw[k] = v
        positional = [PositionalArgument(id=self.node_of(c), starred=st)
                      for c, st in zip(arg_children, stars)]
        keyword = [KeywordArgument(key=k if k is not None else "**", value=self.node_of(c),
                                   starred=k is None) for k, c in zip(keys, kw_children)]
        fn_node = self.node_of(site.children[0])
        if id(fn) in _SCOPE_BUILTINS and fn is _SCOPE_BUILTINS[id(fn)]:
            fn = _scoped(fn, self.g, len(pos))
        if id(fn) in self.save_functions:
            return self._save_call(site, s, fn, pos, kw, fn_node, positional, keyword,
                                   arg_children, keys, kw_children)
        return self.invoke(site, s, fn, fn_node, pos, arg_children, kw, positional, keyword,
                           flat=not any(stars) and None not in keys)

    def invoke(self, site: Site, s: int, fn, fn_node: str, pos: list, arg_children,
               kw: Optional[dict] = None, positional=None, keyword=None, flat=True) -> Any:
        """Call ``fn`` for the program and record the call with its effects."""
        kw = kw or {}
        if positional is None:
            positional = [PositionalArgument(id=self.node_of(c)) for c in arg_children]
        keyword = keyword or []
        owner = getattr(fn, "__self__", None)
        read_key, written, keyed = MISSING_KEY, None, False
        if type(owner) is dict and isinstance(fn, types.BuiltinMethodType):
            read_key, written = method_keys(fn, pos, kw)
            if read_key is not MISSING_KEY:
                fn_node, keyed = self._keyed_method(site, fn, fn_node, owner, read_key)
        plan = self.plan(fn, fn_node, pos, kw, keyed)
        before = {id(obj): fingerprint(obj) for obj, _ in plan.candidates}
        # views of what the call may change, seen before and after it: a view the call
        # left as it was (a groupby's cache filled, not its frame) is not changed by it
        peers = self.view_peers([obj for obj, _ in plan.candidates])
        before.update((key, fingerprint(obj)) for key, obj in peers.items())
        outer_writes = {name: self.g.get(name, MISSING) for name in plan.reach.stores}
        closures = _closure_state(fn, self.g)
        capture = files.begin()
        frame = OpenStatement(site, fn_node, positional, keyword, plan.global_reads, plan.implicit,
                      capture)
        self.open_frames.append(frame)
        self.in_call += 1
        try:
            result = fn(*pos, **kw)
        finally:
            self.in_call -= 1
            self.open_frames.remove(frame)
            files.end(capture)
        call_id = get_new_id()
        inputs = {fn_node, *(p.id for p in positional), *(k.value for k in keyword),
                  *plan.global_reads.values()}
        implicit = [n for n in plan.implicit if n not in inputs]
        implicit += self.file_reads(capture) + frame.early
        if id(fn) in self.get_functions and hasattr(result, "node_id"):
            # the version read, and the artifact's node in its own session: lineage
            # crosses sessions, and the slice can pin `get(name)` to what was read
            implicit += [result.node_id, self.literal(result.version, None)]
        if self.mutable(result):
            self.bound_result(result, call_id, inputs | set(implicit), implicit)
        self.call_node(site, fn_node, positional, keyword, plan.global_reads, implicit,
                       node_id=call_id)
        changed = list(plan.known_mutated)
        spared = []
        for obj in [obj for obj, _ in plan.candidates] + list(peers.values()):
            fp = before[id(obj)]
            if fp is None or fp != fingerprint(obj):
                if id(obj) not in peers:
                    changed.append(obj)
            elif covers_state(obj):  # seen unchanged, by a digest of all its state
                spared.append(id(obj))
        unchanged = frozenset(spared)
        for obj in changed:
            self.mutate(obj, call_id, written if obj is owner else None, unchanged)
        if closures is not None and closures[1] != _closure_state(fn, self.g)[1]:
            # `nonlocal` state rebound: the function itself changed
            self.ensure(closures[0], fn_node)
            self.mutate(closures[0], call_id)
        self._containment(changed, plan.mutable_args)
        self.file_writes(capture, call_id, result)
        self.global_writes(plan.reach.stores, outer_writes, call_id, site)
        holders = plan.mutable_args + [o for o, _ in plan.candidates]
        self.adopt(result, call_id, holders)
        if plan.view_all and self.mutable(result):
            for holder in plan.mutable_args:
                self.view(result, holder)
        self.site_node[s] = call_id
        self._flush_saves(call_id)
        return result

    def _keyed_method(self, site: Site, fn, fn_node: str, owner: dict, key
                      ) -> tuple[str, bool]:
        """``d.get(k)``, ``d.pop(k)``, ``d.setdefault(k)`` written as such: the method
        looked up on the version of ``d`` that last wrote ``k`` (keys.KeyVersions), when
        that is older than its latest, and True; else ``fn_node`` and False. A method
        held in a variable (``get = d.get``) is left alone: its lookup is older."""
        latest = self.latest(owner)
        attr = self.sites[site.children[0]]
        if latest is None or attr.kind != "getattr" or self.getattr_source.get(fn_node) != latest:
            return fn_node, False
        older = self.key_version(owner, key)
        if older == latest:
            return fn_node, False
        # the lookup's node, written by the attribute hook just before the arguments,
        # is written again from the older version under the same id; once the writer
        # took it (a part committed meanwhile), it stays as it is
        lookup = self.sink.retract(fn_node)
        if lookup is None:
            return fn_node, False
        self.call_node(attr, lookup.function_id,
                       [PositionalArgument(id=older), *lookup.positional_args[1:]],
                       node_id=fn_node)
        self.getattr_source[fn_node] = older
        return fn_node, True

    def _containment(self, changed: list, mutable_args: list) -> None:
        """A changed object may now hold another argument (``lst.append(obj)``)."""
        if not changed or len(mutable_args) < 2:
            return
        for obj in changed:
            mine = reachable(obj)
            for other in mutable_args:
                if other is not obj and self.latest(other) is not None \
                        and shares_state(mine, reachable(other)):
                    self.view(obj, other)

    def plan(self, fn, fn_node: str, pos: list, kw: dict, keyed: bool = False) -> "Plan":
        plan = Plan()
        values = pos + list(kw.values())
        plan.mutable_args = [v for v in values if self.mutable(v)]
        owner = getattr(fn, "__self__", None)
        if owner is not None and isinstance(fn, (types.BuiltinMethodType, types.MethodType)) \
                and not isinstance(owner, (types.ModuleType, type)) and self.mutable(owner):
            source = self.getattr_source.get(fn_node)
            latest = self.ensure(owner, fn_node)
            if latest != source and not keyed:
                plan.implicit.append(latest)
            plan.mutable_args.insert(0, owner)
        else:
            owner = None
        active = [v for v in values if is_iterator(v) or is_user_callable(v, self.g)]
        user = is_user_callable(fn, self.g) or (
            owner is not None and is_user_class(type(owner), self.g))
        if not user and not active:
            effect = effects.method_effect(fn) if owner is not None else None
            if effect == "mutates":
                plan.known_mutated.append(owner)
                return plan
            if effect in ("pure", "view") or id(fn) in effects.PURE_FUNCTIONS \
                    or id(fn) in effects.VIEW_FUNCTIONS:
                plan.view_all = effect == "view" or id(fn) in effects.VIEW_FUNCTIONS
                return plan
        targets = [fn] + [v for v in values if is_user_callable(v, self.g)]
        reach = reach_of(targets, self.g) if (user or active) else Reach()
        plan.reach = reach
        seen: set[int] = set()

        def candidate(obj, node):
            if id(obj) not in seen and self.mutable(obj) \
                    and not isinstance(obj, types.ModuleType):
                seen.add(id(obj))
                plan.candidates.append((obj, node))

        for obj in plan.mutable_args:
            candidate(obj, None)
        if owner is None and isinstance(getattr(fn, "__self__", None), types.ModuleType):
            self._module_candidates(fn.__self__, fn_node, plan, candidate)
        for name in sorted(reach.loads):
            if name in self.g:
                value = self.g[name]
                if name in self.bindings or self.mutable(value):
                    node = self.resolve(name, value)
                    plan.global_reads[name] = node
                    if isinstance(value, types.ModuleType):
                        self._module_candidates(value, node, plan, candidate)
                    else:
                        candidate(value, node)
        for name in reach.imports:
            module = sys.modules.get(name)
            if module is not None:
                self._module_candidates(module, fn_node, plan, candidate)
        for held in reach.held:
            if self.mutable(held) and not isinstance(held, types.ModuleType):
                self.ensure(held, fn_node)
                candidate(held, fn_node)
        for value in values:
            if is_iterator(value):
                plan.known_mutated.append(value)
        return plan

    def _module_candidates(self, module, module_node, plan, candidate) -> None:
        for state in module_state(module):
            latest = self.ensure(state, module_node)
            if latest != module_node:
                plan.implicit.append(latest)
            candidate(state, latest)

    # -- files ------------------------------------------------------------------------------
    def file_reads(self, capture) -> list:
        out = []
        for path in dict.fromkeys(capture.reads):
            for writer in self.file_writers.get(path, []):
                out.append(writer if isinstance(writer, str) else self.latest(writer[0])
                           or writer[1])
        return out

    def file_writes(self, capture, call_id: str, result: Any) -> None:
        if not capture.writes:
            return
        fs = self.external["file_system"]
        self.ensure(fs, self.lookup("file_system"))
        self.mutate(fs, call_id)
        for path in dict.fromkeys(capture.writes):
            writers = [call_id]
            if hasattr(result, "write") and getattr(result, "name", None) is not None:
                writers.append((result, call_id))  # a handle: later writes through it
            self.file_writers[path] = writers

    def global_writes(self, names, before: dict, call_id: str, site: Site) -> None:
        for name in sorted(names):
            now = self.g.get(name, MISSING)
            if now is before.get(name, MISSING):
                continue
            node = self.rebind_global(name, now, call_id, site)
            if node is not None and self.mutable(now):
                self.track(now, node)


def _closure_state(fn: Any, user_globals: dict):
    """(function, ids of its closure's contents) for a closure of the program."""
    fn = getattr(fn, "__func__", fn)
    if not isinstance(fn, types.FunctionType) or not fn.__closure__ \
            or fn.__globals__ is not user_globals:
        return None
    state = []
    for cell in fn.__closure__:
        try:
            state.append(id(cell.cell_contents))
        except ValueError:
            state.append(None)
    return fn, state


def _scoped(fn, user_globals: dict, nargs: int):
    """globals(), locals(), vars(), dir(), eval() and exec() as the program's module sees
    them (called from a hook, they would otherwise see the recorder's frame)."""
    if fn is globals or fn is locals:
        return lambda: user_globals
    if fn is vars:
        return lambda *a: vars(*a) if a else user_globals
    if fn is dir:
        return lambda *a: dir(*a) if a else sorted(user_globals)
    if fn is eval:
        return lambda src, g=None, l=None: eval(src, user_globals if g is None else g, l)
    return lambda src, g=None, l=None: exec(src, user_globals if g is None else g, l)
