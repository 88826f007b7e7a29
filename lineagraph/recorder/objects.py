"""Which Python objects are mutable, whether a call changed one, which share state.

- ``is_mutable``: values that can change in place (lists, dicts, arrays, frames,
  estimators, modules, user objects...). Numbers, strings, bytes, None, functions,
  classes of libraries and tuples of immutables cannot.
- ``fingerprint``: a digest of an object's pickled state, taken before and after a call
  whose effect is unknown. Equal digests mean the call left the state pickle sees
  unchanged; an object that cannot be pickled has no fingerprint, and the caller then
  assumes it changed. Functions, modules and classes inside the state are pickled by
  identity (they are code, not data), so the digest never pulls in a program's globals.
- ``reachable``: the mutable objects an object holds (through builtin containers,
  instance ``__dict__``, NumPy bases and pandas arrays); two objects whose sets meet
  share state: they are views of each other.
- ``module_state``: the objects behind a module's hidden state, such as the
  ``random.Random`` instance behind ``random.random`` or NumPy's global ``RandomState``.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import fractions
import hashlib
import io
import numbers
import pickle
import sys
import types
from typing import Any, Optional

_ATOMS = (int, float, complex, bool, str, bytes, type(None), type(Ellipsis), range,
          decimal.Decimal, fractions.Fraction, datetime.date, datetime.time,
          datetime.timedelta, datetime.timezone, enum.Enum, numbers.Number,
          type(NotImplemented), slice)
_CODE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
         types.BuiltinMethodType, types.WrapperDescriptorType, types.MethodWrapperType,
         types.MethodDescriptorType, types.ClassMethodDescriptorType, types.CodeType,
         types.LambdaType, staticmethod, classmethod, property)

# past this size an object is not pickled to compare it: it is assumed changed
MAX_FINGERPRINT_BYTES = 256 * 1024 * 1024
# reachable() gives up (answers "unknown") after visiting this many values
MAX_REACH = 100_000


def is_mutable(value: Any, user_globals: Optional[dict] = None) -> bool:
    if isinstance(value, _ATOMS) or isinstance(value, _CODE):
        return False
    if isinstance(value, type):
        # a class of the program can have its attributes changed by its methods
        return user_globals is not None and value.__module__ == user_globals.get("__name__")
    if type(value) in (tuple, frozenset):
        return any(is_mutable(v, user_globals) for v in value)
    # NumPy's scalars and dtypes cannot change; a program that never imported NumPy
    # has none of them, and importing it here would change that program's modules
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.generic, numpy.dtype)):
        return False
    return True


class _StatePickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _CODE) or isinstance(obj, (types.ModuleType, type)):
            return id(obj)
        return None


def fingerprint(value: Any) -> Optional[bytes]:
    """A digest of the state of ``value``; None when it cannot be taken."""
    if isinstance(value, types.ModuleType):
        parts = module_state(value)
        return fingerprint(parts) if parts else b""
    if isinstance(value, type):
        state = {k: v for k, v in vars(value).items()
                 if not k.startswith("__") and not isinstance(v, _CODE)}
        return fingerprint(state)
    if _too_big(value):
        return None
    digest = hashlib.blake2b(digest_size=20)

    class _Sink(io.RawIOBase):
        def write(self, data):  # streamed into the digest, never held whole
            digest.update(data)
            return len(data)

    try:
        _StatePickler(_Sink(), protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # unpicklable (files, generators, locks, C objects): unknown
        return None
    return digest.digest()


_PLAIN = (list, dict, set, frozenset, tuple, bytearray)


def covers_state(value: Any) -> bool:
    """Whether ``fingerprint(value)`` digests all of ``value``'s state: builtin
    containers, NumPy and pandas objects, and objects pickled by their ``__dict__`` (no
    ``__getstate__``/``__reduce__`` of their own, which could leave shared state out)."""
    cls = type(value)
    if cls in _PLAIN or (cls.__module__ or "").split(".")[0] in ("numpy", "pandas"):
        return True
    return (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__getstate__", None) is getattr(object, "__getstate__", None))


def _too_big(value: Any) -> bool:
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int) and nbytes > MAX_FINGERPRINT_BYTES:
        return True
    memory = getattr(value, "memory_usage", None)
    if memory is not None and type(value).__module__.startswith("pandas"):
        try:
            total = memory(deep=False)
            total = int(total.sum()) if hasattr(total, "sum") else int(total)
            return total > MAX_FINGERPRINT_BYTES
        except Exception:
            return False
    return False


_MODULE_STATE: dict[str, list] = {}


def module_state(module: types.ModuleType) -> list:
    """Objects holding a module's hidden state: the instances its functions are bound
    to (``random._inst``, NumPy's global ``RandomState``), also in its already imported
    submodules. Read from the module's ``__dict__`` only, so no lazy import is ever
    triggered. Cached per module name."""
    name = getattr(module, "__name__", None)
    if not isinstance(name, str):
        return []
    if name in _MODULE_STATE:
        return _MODULE_STATE[name]
    found: dict[int, Any] = {}
    for mod in [module] + _submodules(module):
        for value in list(vars(mod).values()):
            owner = getattr(value, "__self__", None) if isinstance(
                value, (types.BuiltinMethodType, types.MethodType)) else None
            if owner is not None and not isinstance(owner, (types.ModuleType, type)) \
                    and is_mutable(owner):
                found[id(owner)] = owner
    _MODULE_STATE[name] = list(found.values())
    return _MODULE_STATE[name]


def _submodules(module: types.ModuleType) -> list:
    prefix = module.__name__ + "."
    return [v for k, v in list(vars(module).items())
            if isinstance(v, types.ModuleType) and getattr(v, "__name__", "").startswith(prefix)
            and v.__name__ in sys.modules]


def reachable(value: Any) -> Optional[set[int]]:
    """Ids of the mutable objects ``value`` holds, itself included; None if unknown."""
    out: set[int] = set()
    seen: set[int] = set()
    todo = [value]
    visits = 0
    while todo:
        current = todo.pop()
        visits += 1
        if visits > MAX_REACH:
            return None
        if isinstance(current, _ATOMS) or isinstance(current, _CODE) \
                or isinstance(current, (types.ModuleType, type)):
            continue
        key = id(current)
        if key in seen:
            continue
        seen.add(key)
        kind = type(current)
        if kind not in (tuple, frozenset):
            out.add(key)
        if kind in (list, tuple, set, frozenset, collections.deque):
            todo.extend(current)
        elif kind is dict:
            todo.extend(current.keys())
            todo.extend(current.values())
        else:
            more = _held_by(current)
            if more is None:
                return None
            todo.extend(more)
    return out


def _held_by(value: Any) -> Optional[list]:
    """What a non-builtin object holds, for sharing; None when it cannot be told."""
    module = type(value).__module__ or ""
    if module.startswith("numpy"):
        import numpy
        if isinstance(value, numpy.ndarray):
            base = value
            while isinstance(getattr(base, "base", None), numpy.ndarray):
                base = base.base
            held: list = [_Root(base)]
            if value.dtype == object and value.size < MAX_REACH:
                held += list(value.ravel())
            return held
        return []
    if module.startswith("pandas"):
        mgr = getattr(value, "_mgr", None)
        arrays = getattr(mgr, "arrays", None)
        if arrays is None:
            return None
        return list(arrays)
    if isinstance(value, (dict, list, set)):  # subclasses of builtins
        held = list(value.values()) if isinstance(value, dict) else list(value)
        return held + list(getattr(value, "__dict__", {}).values())
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        return list(state.values())
    return []


class _Root:
    """Stands for a NumPy base array, so arrays sharing one base share an id."""

    __slots__ = ("base",)
    _cache: dict[int, "_Root"] = {}

    def __new__(cls, base):
        root = cls._cache.get(id(base))
        if root is None or root.base is not base:
            root = object.__new__(cls)
            root.base = base
            cls._cache[id(base)] = root
        return root


def shares_state(a_reach: Optional[set[int]], b_reach: Optional[set[int]]) -> bool:
    """Unknown reach counts as shared: the slice keeps more, never less."""
    if a_reach is None or b_reach is None:
        return True
    return not a_reach.isdisjoint(b_reach)
