"""Import statements: ImportNodes with the library's version, names bound to them.

The statement itself runs unchanged (Python's own import semantics and errors); its
hook then reads what it bound. ``import a.b`` binds ``a`` to an ImportNode named
``a.b``; ``from m import x`` is ``getattr`` on m's ImportNode, as in LineaPy;
``from m import *`` binds each name the module exports.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
from typing import Optional

from ..models import ImportNode, PositionalArgument, get_new_id


@functools.lru_cache(maxsize=1)
def _distributions() -> dict:
    try:
        return importlib.metadata.packages_distributions()
    except Exception:  # pragma: no cover - broken metadata must not stop a program
        return {}


@functools.lru_cache(maxsize=512)
def library_version(top: str) -> Optional[str]:
    """The version of the installed distribution providing top-level module ``top``, else
    the module's own ``__version__``. The standard library and modules read from no file
    or folder (built-in ones, ``lineapy`` under ``lineagraph run``) belong to no
    distribution: the scan of every installed one (a quarter of a second) is left to
    other modules."""
    module = sys.modules.get(top)
    if top in sys.stdlib_module_names or (module is not None and not _from_disk(module)):
        version = getattr(module, "__version__", None)
        return version if isinstance(version, str) else None
    for dist in _distributions().get(top, []):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    version = getattr(sys.modules.get(top), "__version__", None)
    return version if isinstance(version, str) else None


def _from_disk(module) -> bool:
    return isinstance(getattr(module, "__file__", None), str) or \
        getattr(module, "__path__", None) is not None  # a namespace package has no file


def _module_path(name: str) -> Optional[str]:
    path = getattr(sys.modules.get(name), "__file__", None)
    return path if isinstance(path, str) else None


def record_import(rec, site) -> None:
    info = site.info
    if not info["from_"]:
        for name, asname in info["names"]:
            node = _import_node(rec, site, name)
            bound = asname or name.split(".")[0]
            _bind(rec, bound, node)
        return
    module = ("." * info["level"]) + (info["module"] or "")
    real = _resolved(rec, info)
    node = _import_node(rec, site, real or module)
    names = info["names"]
    if names == [("*", None)]:
        exported = getattr(sys.modules.get(real), "__all__", None) if real else None
        target = sys.modules.get(real) if real else None
        if exported is None and target is not None:
            exported = [n for n in vars(target) if not n.startswith("_")]
        names = [(n, None) for n in exported or []]
    for name, asname in names:
        bound = asname or name
        if bound not in rec.g:
            continue
        attr = rec.literal(name, site)
        call = rec.call_node(site, rec.lookup("getattr"),
                             [PositionalArgument(id=node), PositionalArgument(id=attr)])
        _bind(rec, bound, call)


def _resolved(rec, info) -> Optional[str]:
    if info["level"] == 0:
        return info["module"]
    package = rec.g.get("__package__") or ""
    parts = package.split(".") if package else []
    base = parts[: len(parts) - info["level"] + 1] if parts else []
    return ".".join(base + ([info["module"]] if info["module"] else [])) or None


def _import_node(rec, site, name: str) -> str:
    """The ImportNode of ``name``; for a module whose file the program wrote itself (a
    notebook's ``%%writefile helpers.py``, then ``import helpers``), a call on it that
    depends on that write, so the slice keeps the code writing the module."""
    top = name.split(".")[0]
    path = _module_path(name)
    writers = rec.file_writers.get(os.path.abspath(path)) if path else None
    # such an import stays where it was written, after the write, in slices: its line
    # belongs to the call; an ImportNode's line would be moved up with the imports
    node = rec.write(ImportNode(
        id=get_new_id(), session_id=rec.session_id, name=name, version=library_version(top),
        package_name=top, path=path, source_location=None if writers else rec.loc(site)))
    if not writers:
        return node
    implicit = [w if isinstance(w, str) else rec.latest(w[0]) or w[1] for w in writers]
    return rec.call_node(site, rec.lookup("l_alias"), [PositionalArgument(id=node)],
                         implicit=implicit)


def _bind(rec, bound: str, node: str) -> None:
    rec.bind_name(bound, node)
    value = rec.g.get(bound)
    if value is not None and rec.mutable(value):
        rec.track(value, node)  # a module re-imported: the new line defines the name
