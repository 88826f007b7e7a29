"""The running recorder: the hooks the rewritten script calls, building the graph.

Values are tracked by identity. Every mutable object the program touches has a
*latest node*: the node whose value it currently is (its creation, then the
MutateNode of each change). A name read gives the latest node of its object (so
``view = scores; view.append(1)`` is seen when ``scores`` is read), or the node
that bound an immutable value. Objects sharing state are *views* of each other
(symmetric and transitive, as in LineaPy): a change to one is a change to all.

Effects of a call (:mod:`.calls`; :mod:`.effects` for the few known ones) are found by
comparing fingerprints of everything mutable the call could touch, before and
after: its arguments, ``self``, and, for the program's own functions and classes,
the globals their code loads, values in their closures and the hidden state of
modules they use. What cannot be fingerprinted is assumed changed: the slice keeps
more code, never less.
"""

from __future__ import annotations

import builtins
import types
from typing import Any, Optional

from ..models import (
    CallNode,
    LiteralNode,
    LookupNode,
    MutateNode,
    PositionalArgument,
    SourceCode,
    SourceLocation,
    get_new_id,
)
from .api import ExternalState
from .artifacts import ArtifactHooks
from .blocks import BlockHooks
from .calls import CallHooks
from .keys import KeyVersions
from .objects import is_mutable, reachable, shares_state
from .rewrite import Site
from .statements import StatementHooks

_LITERALS = (str, int, float, bool, bytes, type(None), type(Ellipsis))


def _utf8(text: str) -> bool:
    """Whether UTF-8 can hold ``text`` (no lone surrogate in it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# views of a changed object fingerprinted to tell whether they changed with it; with more,
# all change with it (each call would otherwise digest every view of a large frame)
MAX_PEERS = 8


class Recorder(CallHooks, StatementHooks, BlockHooks, ArtifactHooks, KeyVersions):
    def __init__(self, sink, session_id: str, code: Optional[SourceCode], user_globals: dict,
                 sites: list[Site], external: dict):
        self.sink = sink
        self.session_id = session_id
        self.g = user_globals
        self.sites: list[Site] = []
        self.site_node: list[Optional[str]] = []
        self.site_code: list[SourceCode] = []  # the source code (script, cell) of each site
        self.bindings: dict[str, str] = {}
        self.lookups: dict[str, str] = {}
        self.objs: dict[int, list] = {}       # id -> [object, latest node id]
        self.groups: dict[int, set] = {}      # id -> shared set of ids of its views
        self.dict_keys: dict[int, dict] = {}  # id -> per-key versions (keys.KeyVersions)
        self.getattr_source: dict[str, str] = {}   # getattr node -> node of its object
        self.stashed_values: dict[int, Any] = {}
        self.entered: dict[int, dict] = {}
        self.file_writers: dict[str, list] = {}
        self.external = external               # "file_system"/"db" -> ExternalState
        self.in_call = 0
        self.pending_saves: list = []
        self.open_frames: list = []            # statements running (artifacts.OpenStatement)
        self.unpicklable_told = False
        self.save_functions: set[int] = set()
        self.get_functions: set[int] = set()
        self.locations: dict[tuple, SourceLocation] = {}
        if code is not None:
            self.add_code(code, sites)

    def add_code(self, code: SourceCode, sites: list[Site]) -> None:
        """The sites of a script, or of a notebook cell about to run (numbered on from
        those before it, as ``rewrite(..., first_id=len(recorder.sites))`` made them)."""
        assert not sites or sites[0].id == len(self.sites)
        self.sites.extend(sites)
        self.site_node.extend([None] * len(sites))
        self.site_code.extend([code] * len(sites))

    # -- nodes ----------------------------------------------------------------------------
    def loc(self, site: Site) -> SourceLocation:
        # one model per span, shared by the nodes of a site (a loop's body makes many):
        # building and validating a SourceLocation per node was a tenth of the hooks' time
        code = self.site_code[site.id]
        key = (code.id, site.lineno, site.col_offset, site.end_lineno, site.end_col_offset)
        found = self.locations.get(key)
        if found is None:
            found = self.locations[key] = SourceLocation(
                lineno=site.lineno, col_offset=site.col_offset, end_lineno=site.end_lineno,
                end_col_offset=site.end_col_offset, source_code=code)
        return found

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
        if type(value) is str and not _utf8(value):
            # a lone surrogate ("\ud800"), which Neo4j's UTF-8 cannot hold: the call
            # str(its bytes, "utf-8", "surrogatepass"), which gives the same string back
            parts = [self.literal(value.encode("utf-8", "surrogatepass"), site),
                     self.literal("utf-8", site), self.literal("surrogatepass", site)]
            return self.call_node(site, self.lookup("str"),
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

    def mutate(self, value: Any, call_id: str, keys: Optional[frozenset] = None,
               spared: frozenset = frozenset()) -> None:
        """``call_id`` changed ``value`` (and its views, but those in ``spared``, ids of
        views seen unchanged by the call); of a plain dict, only ``keys`` when known."""
        before = self.latest(value)
        for key in list(self.groups.get(id(value)) or {id(value)}):
            entry = self.objs.get(key)
            if entry is None or entry[1] == call_id or (key in spared and key != id(value)):
                continue
            entry[1] = self.write(MutateNode(id=get_new_id(), session_id=self.session_id,
                                             source_id=entry[1], call_id=call_id))
        self.keys_written(value, before, keys)

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

    def view_peers(self, objects) -> dict[int, Any]:
        """The tracked views of ``objects`` that are not among them, by id; none when
        there are more than MAX_PEERS (then a change of one is a change of all)."""
        own = {id(obj) for obj in objects}
        peers: dict[int, Any] = {}
        for key in own:
            for peer in self.groups.get(key, ()):
                entry = self.objs.get(peer)
                if peer not in own and entry is not None:
                    peers[peer] = entry[0]
                    if len(peers) > MAX_PEERS:
                        return {}
        return peers

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
        # a dict whose __missing__ may store the key (defaultdict): reading changes it
        absent = _inserts_missing(obj) and _absent(obj, index)
        value = obj[index]
        obj_node = self.node_of(site.children[0])
        if obj_node == self.latest(obj):  # of a dict, the version that wrote the key
            obj_node = self.key_version(obj, index)
        node = self._container_read(site, "getitem", obj, obj_node, value,
                                    self.node_of(site.children[1]))
        if absent and not _absent(obj, index):
            self.ensure(obj, obj_node)
            self.mutate(obj, node)
        self.site_node[s] = node
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
        self.bind_name(site.info["name"], node)
        self.site_node[s] = node
        return value

    def finish(self) -> None:
        self.sink.end()


def _inserts_missing(obj: Any) -> bool:
    return isinstance(obj, dict) and type(obj) is not dict \
        and hasattr(type(obj), "__missing__")


def _absent(obj: dict, key: Any) -> bool:
    try:
        return key not in obj
    except TypeError:  # unhashable: the read itself raises
        return False
