"""The shape of the package: no module reaches into another module's private names, no
module is over 500 lines, the server and connection layers import one way, and the CLI
has no function-local imports. Read from the source with ``ast``; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lineagraph"
MAX_LINES = 500


def modules(package: Path = PACKAGE) -> dict[str, ast.Module]:
    """Every module under ``package`` (lineagraph/), by dotted name."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The dotted name a relative import in ``module`` refers to."""
    if level == 0:
        return target or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def defined_privates(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, methods, module variables, and
    attributes it assigns (``self._x = ...``, ``obj._x = ...``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if is_private(n)}


def private_reaches(package: Path = PACKAGE) -> list[str]:
    """``module:line: what`` for every use of another lineagraph module's private name:
    ``from .mod import _name``, ``mod._name`` on an imported module or object, and
    ``x._name`` where ``_name`` is defined by another lineagraph module and not by this
    one (``self._x`` and ``cls._x`` are a class's own business)."""
    trees = modules(package)
    defined = {name: defined_privates(tree) for name, tree in trees.items()}
    found = []
    for module, tree in trees.items():
        is_package = (PACKAGE.parent / Path(*module.split("."))).is_dir()
        imported: dict[str, str] = {}  # local name -> lineagraph module it came from
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = absolute(module, is_package, node.level, node.module)
                if not source.startswith("lineagraph"):
                    continue
                for alias in node.names:
                    if is_private(alias.name) and source != module:
                        found.append(f"{module}:{node.lineno}: from {source} import {alias.name}")
                    imported[alias.asname or alias.name] = source
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("lineagraph"):
                        imported[alias.asname or alias.name.split(".")[0]] = alias.name
        elsewhere = set().union(*(names for other, names in defined.items() if other != module))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
                continue
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner in ("self", "cls"):
                continue
            if owner in imported and imported[owner] != module:
                found.append(f"{module}:{node.lineno}: {owner}.{node.attr} "
                             f"(from {imported[owner]})")
            elif node.attr in elsewhere and node.attr not in defined[module]:
                found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = private_reaches()
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def imports_of(tree: ast.Module, module: str, is_package: bool = False):
    """(line, imported lineagraph module, enclosing function or None) for every import."""
    def walk(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef,
                                                     ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.ImportFrom):
                source = absolute(module, is_package, child.level, child.module)
                for alias in child.names:  # `from . import x` may name a module
                    yield child.lineno, f"{source}.{alias.name}", function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield child.lineno, alias.name, function
            yield from walk(child, inner)
    yield from walk(tree, None)


def test_the_server_imports_connection_and_never_the_other_way():
    trees = modules()
    back = [(m, line, what) for m in ("lineagraph.connection", "lineagraph.config")
            for line, what, _ in imports_of(trees[m], m)
            if what.startswith(("lineagraph.server", "lineagraph.cli"))]
    assert not back, back
    above = [(m, line, what) for m in trees if m.startswith("lineagraph.server")
             for line, what, _ in imports_of(trees[m], m, m == "lineagraph.server")
             if what.startswith(("lineagraph.environment", "lineagraph.cli",
                                 "lineagraph.store"))]
    assert not above, above
    # the one way back: connection's transitional re-export of resolve_settings,
    # imported on first use by its module __getattr__ (PEP 562)
    shim = [(line, what, f) for line, what, f in imports_of(trees["lineagraph.connection"],
                                                              "lineagraph.connection")
            if what.startswith("lineagraph.environment")]
    assert all(f == "__getattr__" for _, _, f in shim), shim


def test_the_cli_and_the_server_have_no_function_local_imports():
    trees = modules()
    local = [(m, line, what) for m, tree in trees.items()
             if m.startswith(("lineagraph.cli", "lineagraph.server"))
             or m in ("lineagraph.environment", "lineagraph.browser", "lineagraph.demo",
                      "lineagraph.artifacts")
             for line, what, function in imports_of(tree, m, m.count(".") == 1
                                                     and m.endswith(("cli", "server")))
             if function is not None]
    assert not local, local


def test_the_checks_find_what_they_look_for(tmp_path, monkeypatch):
    """The private-name check is not vacuous: it sees a planted reach (in a copy of the
    package, so a run beside this one never sees the probe)."""
    import shutil

    copy = tmp_path / "lineagraph"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    (copy / "_architecture_probe.py").write_text(
        "from .store import _LRU\nfrom . import server\n"
        "server._log\n\ndef f(db):\n    return db._read\n", encoding="utf-8")
    found = [f for f in private_reaches(copy)
             if f.startswith("lineagraph._architecture_probe")]
    assert any("import _LRU" in f for f in found), found
    assert any("server._log" in f for f in found), found
    assert any("db._read" in f for f in found), found
