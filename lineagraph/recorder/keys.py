"""Versions of a plain dict per key, so that reading one key depends only on the changes
that wrote it.

A dict's history is the chain of its MutateNodes. ``d[k] = v``, ``del d[k]``,
``d.setdefault(k, ...)``, ``d.pop(k, ...)`` and ``d.update(...)`` with known keys write
only those keys; ``d[k]``, ``d.get(k, ...)``, ``d.pop(k, ...)`` and ``d.setdefault(k,
...)`` read only key ``k``. A read of ``k`` then uses the dict as it was after the last
change that wrote ``k`` (or after the last change of unknown keys), not its latest
state: in ``d = {...}; d["x"] = 1; y = d.pop("a")`` the slice of ``y`` leaves
``d["x"] = 1`` out, which is right whatever ``x`` is.

Anything else that changes the dict (another method, a function it was passed to, a
view of it changing, a block) moves its latest node past what is recorded here, and
then every read uses the latest node again: knowing less keeps more code, never less.
Only ``dict`` itself (not subclasses, whose methods may do anything) with keys of
types compared by value (str, int, bytes, bool, None) is followed.
"""

from __future__ import annotations

from typing import Any, Optional

_KEY_TYPES = (str, int, bytes, bool, type(None))
_MISSING = object()


def plain_key(key: Any) -> bool:
    return type(key) in _KEY_TYPES


def method_keys(fn: Any, pos: list, kw: dict) -> tuple[Any, Optional[frozenset]]:
    """For a bound method of a plain dict: (the key it reads, or ``_MISSING``; the keys
    it writes, or None when unknown)."""
    name = fn.__name__
    if name in ("get", "pop", "setdefault") and pos and plain_key(pos[0]) and not kw:
        writes = None if name == "get" else frozenset([pos[0]])
        return pos[0], writes
    if name == "update" and len(pos) <= 1:
        keys = list(kw)
        if pos:
            if type(pos[0]) is not dict:
                return _MISSING, None
            keys += list(pos[0])
        if all(plain_key(k) for k in keys):
            return _MISSING, frozenset(keys)
    return _MISSING, None


class KeyVersions:
    """The Recorder's per-key versions of plain dicts (uses ``latest``)."""

    dict_keys: dict[int, dict]

    def key_version(self, value: Any, key: Any) -> Optional[str]:
        """The node of ``value`` to read key ``key`` from: the latest, unless only
        changes of other keys came after the last one that wrote ``key``."""
        now = self.latest(value)
        if type(value) is not dict or not plain_key(key):
            return now
        entry = self.dict_keys.get(id(value))
        if entry is None or now is None or entry["head"] != now:
            return now
        return entry["keys"].get(key, entry["base"])

    def keys_written(self, value: Any, before: Optional[str],
                     keys: Optional[frozenset]) -> None:
        """After a change of ``value`` (its node was ``before``): ``keys`` were written,
        or None for unknown keys."""
        if type(value) is not dict:
            return
        after = self.latest(value)
        if keys is None or before is None or after is None or after == before:
            self.dict_keys.pop(id(value), None)
            return
        entry = self.dict_keys.get(id(value))
        if entry is None or entry["head"] != before:
            entry = self.dict_keys[id(value)] = {"base": before, "keys": {}}
        for key in keys:
            entry["keys"][key] = after
        entry["head"] = after


MISSING_KEY = _MISSING
