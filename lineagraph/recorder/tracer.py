"""The running recorder: the hooks the rewritten script calls, building the graph.

Values are tracked by identity. Every mutable object the program touches has a
*latest node*: the node whose value it currently is (its creation, then the
MutateNode of each change). A name read gives the latest node of its object (so
``view = scores; view.append(1)`` is seen when ``scores`` is read), or the node
that bound an immutable value. Objects sharing state are *views* of each other
(symmetric and transitive, as in LineaPy): a change to one is a change to all.

Effects of a call (see :mod:`.effects` for the few known ones) are found by
comparing fingerprints of everything mutable the call could touch, before and
after: its arguments, ``self``, and, for the program's own functions and classes,
the globals their code loads, values in their closures and the hidden state of
modules they use. What cannot be fingerprinted is assumed changed: the slice keeps
more code, never less.
"""

from __future__ import annotations

import builtins
import operator
import sys
import types
from typing import Any, Optional

from ..models import (
    CallNode,
    GlobalNode,
    KeywordArgument,
    LiteralNode,
    LookupNode,
    MutateNode,
    PositionalArgument,
    SourceCode,
    SourceLocation,
    get_new_id,
)
from . import effects, files
from .api import ExternalState
from .analysis import Reach, is_user_callable, is_user_class, reach_of
from .objects import fingerprint, is_mutable, module_state, reachable, shares_state
from .artifacts import ArtifactHooks
from .common import _MISSING, _Plan, _is_iterator
from .blocks import BlockHooks
from .rewrite import Site
from .statements import StatementHooks

_LITERALS = (str, int, float, bool, bytes, type(None), type(Ellipsis))
_OPS = {"not_in": lambda a, b: a not in b, "contains": lambda a, b: a in b}
_SCOPE_BUILTINS = {id(f): f for f in (globals, locals, vars, dir, eval, exec)}


class Recorder(StatementHooks, BlockHooks, ArtifactHooks):
    def __init__(self, sink, session_id: str, code: SourceCode, user_globals: dict,
                 sites: list[Site], external: dict):
        self.sink = sink
        self.session_id = session_id
        self.code = code
        self.g = user_globals
        self.sites = sites
        self.site_node: list[Optional[str]] = [None] * len(sites)
        self.bindings: dict[str, str] = {}
        self.lookups: dict[str, str] = {}
        self.objs: dict[int, list] = {}       # id -> [object, latest node id]
        self.groups: dict[int, set] = {}      # id -> shared set of ids of its views
        self.getattr_source: dict[str, str] = {}   # getattr node -> node of its object
        self.stashed_values: dict[int, Any] = {}
        self.entered: dict[int, dict] = {}
        self.file_writers: dict[str, list] = {}
        self.external = external               # "file_system"/"db" -> ExternalState
        self.in_call = 0
        self.pending_saves: list = []
        self.unpicklable_told = False
        self.save_functions: set[int] = set()
        self.get_functions: set[int] = set()

    # -- nodes ----------------------------------------------------------------------------
    def loc(self, site: Site) -> SourceLocation:
        return SourceLocation(lineno=site.lineno, col_offset=site.col_offset,
                              end_lineno=site.end_lineno, end_col_offset=site.end_col_offset,
                              source_code=self.code)

    def write(self, node) -> str:
        self.sink.node(node)
        return node.id

    def lookup(self, name: str) -> str:
        node_id = self.lookups.get(name)
        if node_id is None:
            node_id = self.write(LookupNode(id=get_new_id(), session_id=self.session_id,
                                            name=name))
            self.lookups[name] = node_id
        return node_id

    def literal(self, value: Any, site: Optional[Site]) -> str:
        if type(value) not in _LITERALS:  # complex and friends: a call of their type
            parts = [self.literal(value.real, site), self.literal(value.imag, site)]
            return self.call_node(site, self.lookup(type(value).__name__),
                                  [PositionalArgument(id=p) for p in parts])
        return self.write(LiteralNode(id=get_new_id(), session_id=self.session_id,
                                      value=value,
                                      source_location=self.loc(site) if site else None))

    def call_node(self, site: Optional[Site], function_id: str, positional=(), keyword=(),
                  global_reads=None, implicit=(), node_id: Optional[str] = None) -> str:
        return self.write(CallNode(
            id=node_id or get_new_id(), session_id=self.session_id, function_id=function_id,
            positional_args=list(positional), keyword_args=list(keyword),
            global_reads=dict(global_reads or {}),
            implicit_dependencies=list(dict.fromkeys(implicit)),
            source_location=self.loc(site) if site else None))

    def node_of(self, child: Optional[int]) -> str:
        return self.site_node[child]

    # -- objects --------------------------------------------------------------------------
    def mutable(self, value: Any) -> bool:
        return is_mutable(value, self.g)

    def latest(self, value: Any) -> Optional[str]:
        entry = self.objs.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else None

    def track(self, value: Any, node_id: str) -> None:
        key = id(value)
        entry = self.objs.get(key)
        if entry is not None and entry[0] is not value:  # a dead object's id reused
            self.groups.pop(key, None)
        self.objs[key] = [value, node_id]

    def ensure(self, value: Any, node_id: str) -> str:
        """The latest node of ``value``, tracking it at ``node_id`` if new."""
        current = self.latest(value)
        if current is None:
            self.track(value, node_id)
            return node_id
        return current

    def view(self, a: Any, b: Any) -> None:
        ka, kb = id(a), id(b)
        if ka == kb:
            return
        ga = self.groups.get(ka) or {ka}
        gb = self.groups.get(kb) or {kb}
        if ga is gb:
            return
        if len(ga) < len(gb):
            ga, gb = gb, ga
        ga |= gb
        for key in ga:
            self.groups[key] = ga

    def mutate(self, value: Any, call_id: str) -> None:
        for key in list(self.groups.get(id(value)) or {id(value)}):
            entry = self.objs.get(key)
            if entry is None or entry[1] == call_id:
                continue
            entry[1] = self.write(MutateNode(id=get_new_id(), session_id=self.session_id,
                                             source_id=entry[1], call_id=call_id))

    def resolve(self, name: str, value: Any) -> str:
        node = self.bindings.get(name)
        if isinstance(value, types.FunctionType) and self.latest(value) is not None:
            return self.latest(value)  # a closure whose state changed
        if self.mutable(value):
            current = self.latest(value)
            if current is not None:
                return current
            node = node or self.lookup(name)
            self.track(value, node)
            return node
        return node or self.lookup(name)

    def bound_result(self, value: Any, node_id: str, inputs: set, implicit: list) -> None:
        """Before writing node ``node_id`` whose value is ``value``: if the object is
        already tracked, its history must stay among the node's ancestors."""
        if isinstance(value, types.ModuleType):
            return  # a module's state lives in its state objects (objects.module_state)
        current = self.latest(value)
        if current is not None and current not in inputs:
            implicit.append(current)

    def adopt(self, value: Any, node_id: str, holders=()) -> None:
        """After writing ``node_id``: it is now the latest node of ``value``; a new
        object that shares state with one of ``holders`` is a view of it."""
        if not self.mutable(value):
            return
        fresh = self.latest(value) is None
        self.track(value, node_id)
        if not fresh:
            return
        mine = None
        for holder in holders:
            if holder is value or not self.mutable(holder) or isinstance(holder, types.ModuleType):
                continue
            if mine is None:
                mine = reachable(value)
            if shares_state(mine, reachable(holder)):
                self.view(value, holder)

    # -- simple expressions ---------------------------------------------------------------
    def literal_hook(self, s: int, value: Any) -> Any:
        self.site_node[s] = self.literal(value, self.sites[s])
        return value

    def name(self, s: int, value: Any) -> Any:
        self.site_node[s] = self.resolve(self.sites[s].info["name"], value)
        return value

    def alias(self, s: int, value: Any) -> Any:
        site = self.sites[s]
        node = self.call_node(site, self.lookup("l_alias"),
                              [PositionalArgument(id=self.node_of(site.children[0]))])
        if self.mutable(value):
            self.track(value, node)
        self.site_node[s] = node
        return value

    def getattr(self, s: int, obj: Any) -> Any:
        site = self.sites[s]
        value = getattr(obj, site.info["attr"])
        obj_node = self.node_of(site.children[0])
        self.site_node[s] = self._container_read(site, "getattr", obj, obj_node, value,
                                                 self.literal(site.info["attr"], site))
        return value

    def getitem(self, s: int, obj: Any, index: Any) -> Any:
        site = self.sites[s]
        value = obj[index]
        self.site_node[s] = self._container_read(site, "getitem", obj,
                                                 self.node_of(site.children[0]), value,
                                                 self.node_of(site.children[1]))
        return value

    def _container_read(self, site, fn: str, obj, obj_node, value, key_node) -> str:
        inputs = {obj_node, key_node}
        implicit: list = []
        if self.mutable(value) and not isinstance(value, ExternalState):
            self.bound_result(value, "", inputs, implicit)
        node = self.call_node(site, self.lookup(fn), [PositionalArgument(id=obj_node),
                                                      PositionalArgument(id=key_node)],
                              implicit=implicit)
        if fn == "getattr" and not self.mutable(value):
            self.getattr_source[node] = obj_node
        if self.mutable(value) and isinstance(value, ExternalState) \
                and self.latest(value) is not None:
            pass  # lineapy.file_system stays its chain of changes, as in LineaPy
        elif self.mutable(value):
            if isinstance(obj, types.ModuleType) or not self.mutable(obj):
                self.track(value, node)
            else:
                self.track(value, node)
                self.view(obj, value)
        return node

    def slice(self, s: int, lower: Any, upper: Any, step: Any) -> Any:
        site = self.sites[s]
        args = [PositionalArgument(id=self.node_of(c) if c is not None
                                   else self.literal(None, site)) for c in site.children]
        self.site_node[s] = self.call_node(site, self.lookup("slice"), args)
        return builtins.slice(lower, upper, step)

    def display(self, s: int, items: list) -> Any:
        site = self.sites[s]
        kind = site.kind
        flat: list = []
        for item, starred in zip(items, site.info["stars"]):
            if starred:
                flat.extend(item)
            else:
                flat.append(item)
        value = {"list": list, "tuple": tuple, "set": set}[kind](flat)
        args = [PositionalArgument(id=self.node_of(c), starred=st)
                for c, st in zip(site.children, site.info["stars"])]
        node = self.call_node(site, self.lookup(f"l_{kind}"), args)
        self.adopt(value, node, [i for i in items if self.mutable(i)])
        self.site_node[s] = node
        return value

    def dict_(self, s: int, keys: list, values: list) -> Any:
        site = self.sites[s]
        result: dict = {}
        args = []
        children = iter(site.children)
        for key, value, unpack in zip(keys, values, site.info["unpack"]):
            key_child, value_child = next(children), next(children)
            if unpack:
                result.update(value)
                args.append(PositionalArgument(id=self.node_of(value_child), starred=True))
            else:
                result[key] = value
                args.append(PositionalArgument(id=self.node_of(key_child)))
                args.append(PositionalArgument(id=self.node_of(value_child)))
        node = self.call_node(site, self.lookup("l_dict"), args)
        self.adopt(result, node, [v for v in values if self.mutable(v)])
        self.site_node[s] = node
        return result

    def walrus(self, s: int, value: Any) -> Any:
        site = self.sites[s]
        node = self.node_of(site.children[0])
        self._bind_name(site.info["name"], node)
        self.site_node[s] = node
        return value

    # -- operators and calls --------------------------------------------------------------
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
        plan = self.plan(fn, fn_node, pos, kw)
        before = {id(obj): fingerprint(obj) for obj, _ in plan.candidates}
        outer_writes = {name: self.g.get(name, _MISSING) for name in plan.reach.stores}
        closures = _closure_state(fn, self.g)
        capture = files.begin()
        self.in_call += 1
        try:
            result = fn(*pos, **kw)
        finally:
            self.in_call -= 1
            files.end(capture)
        call_id = get_new_id()
        inputs = {fn_node, *(p.id for p in positional), *(k.value for k in keyword),
                  *plan.global_reads.values()}
        implicit = [n for n in plan.implicit if n not in inputs]
        implicit += self.file_reads(capture)
        if id(fn) in self.get_functions and hasattr(result, "node_id"):
            # the version read, and the artifact's node in its own session: lineage
            # crosses sessions, and the slice can pin `get(name)` to what was read
            implicit += [result.node_id, self.literal(result.version, None)]
        if self.mutable(result):
            self.bound_result(result, call_id, inputs | set(implicit), implicit)
        self.call_node(site, fn_node, positional, keyword, plan.global_reads, implicit,
                       node_id=call_id)
        changed = list(plan.known_mutated)
        for obj, _ in plan.candidates:
            fp = before[id(obj)]
            if fp is None or fp != fingerprint(obj):
                changed.append(obj)
        for obj in changed:
            self.mutate(obj, call_id)
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

    def plan(self, fn, fn_node: str, pos: list, kw: dict) -> "_Plan":
        plan = _Plan()
        values = pos + list(kw.values())
        plan.mutable_args = [v for v in values if self.mutable(v)]
        owner = getattr(fn, "__self__", None)
        if owner is not None and isinstance(fn, (types.BuiltinMethodType, types.MethodType)) \
                and not isinstance(owner, (types.ModuleType, type)) and self.mutable(owner):
            source = self.getattr_source.get(fn_node)
            latest = self.ensure(owner, fn_node)
            if latest != source:
                plan.implicit.append(latest)
            plan.mutable_args.insert(0, owner)
        else:
            owner = None
        active = [v for v in values if _is_iterator(v) or is_user_callable(v, self.g)]
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
            if _is_iterator(value):
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
            now = self.g.get(name, _MISSING)
            if now is before.get(name, _MISSING):
                continue
            if now is _MISSING:
                self.bindings.pop(name, None)
                continue
            node = self.write(GlobalNode(id=get_new_id(), session_id=self.session_id,
                                         name=name, call_id=call_id,
                                         source_location=self.loc(site)))
            self._bind_name(name, node)
            if self.mutable(now):
                self.track(now, node)

    def finish(self) -> None:
        self.sink.flush()


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
