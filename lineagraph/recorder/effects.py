"""What some calls are known to do, so the recorder need not compare fingerprints.

Only builtins with fixed meanings are listed. Everything else is an unknown call: its
mutable arguments (and ``self``) are fingerprinted before and after it.
"""

from __future__ import annotations

import builtins
import collections
import operator
from typing import Any

# builtins that change none of their arguments (when no argument is an iterator, a
# user callable or an instance of a user class, whose code they might run)
PURE_FUNCTIONS = {
    id(f) for f in (
        abs, all, any, ascii, bin, bool, bytes, callable, chr, complex, dict, divmod,
        float, format, frozenset, getattr, hasattr, hash, hex, id, int, isinstance,
        issubclass, len, list, max, min, oct, ord, pow, range, repr, round, set, slice,
        sorted, str, sum, tuple, type, print, bytearray,
        operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
        operator.mod, operator.pow, operator.matmul, operator.lshift, operator.rshift,
        operator.and_, operator.or_, operator.xor, operator.neg, operator.pos,
        operator.invert, operator.not_, operator.lt, operator.le, operator.eq,
        operator.ne, operator.gt, operator.ge, operator.is_, operator.is_not,
        operator.contains, operator.getitem, operator.truth,
    )
}

# builtins whose result holds (a view of) their arguments
VIEW_FUNCTIONS = {id(f) for f in (iter, enumerate, zip, reversed, map, filter)}

_PURE_METHODS = {
    list: {"copy", "index", "count", "__getitem__", "__len__", "__contains__"},
    dict: {"get", "copy", "__getitem__", "__len__", "__contains__"},
    set: {"copy", "union", "intersection", "difference", "symmetric_difference",
          "issubset", "issuperset", "isdisjoint", "__contains__", "__len__"},
    str: None, bytes: None, tuple: None, frozenset: None, int: None, float: None,
}
_VIEW_METHODS = {dict: {"keys", "values", "items"}}
_MUTATING_METHODS = {
    list: {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
           "__setitem__", "__delitem__", "__iadd__", "__imul__"},
    dict: {"update", "setdefault", "pop", "popitem", "clear", "__setitem__",
           "__delitem__", "__ior__"},
    set: {"add", "update", "discard", "remove", "pop", "clear", "difference_update",
          "intersection_update", "symmetric_difference_update", "__ior__", "__iand__",
          "__isub__", "__ixor__"},
    bytearray: {"append", "extend", "insert", "pop", "remove", "clear", "reverse",
                "__setitem__", "__delitem__"},
    collections.deque: {"append", "appendleft", "extend", "extendleft", "pop",
                        "popleft", "rotate", "clear", "remove", "insert"},
}

BUILTIN_NAMES = set(dir(builtins))


def method_effect(fn: Any) -> str | None:
    """'pure', 'view', 'mutates' for a bound method of a builtin type, else None."""
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", None)
    if owner is None or name is None:
        return None
    kind = type(owner)
    if kind in _MUTATING_METHODS and name in _MUTATING_METHODS[kind]:
        return "mutates"
    if kind in _VIEW_METHODS and name in _VIEW_METHODS[kind]:
        return "view"
    if kind in _PURE_METHODS:
        names = _PURE_METHODS[kind]
        if names is None or name in names:
            return "pure"
    return None
