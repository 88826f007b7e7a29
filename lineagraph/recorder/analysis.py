"""Static facts the recorder needs about code, read without running it.

Two sources: the script's AST (which names a compound statement or an expression reads
and binds at module level) and the code objects of the user's functions (which global
names they load and store, which modules they import, which other user code they can
reach). Code objects are read with ``dis.get_instructions``, a static disassembly that
is the same public API on 3.11-3.13; nothing here traces or touches frames. Also which
names an IPython magic or shell escape reads and binds (``magic_names``).
"""

from __future__ import annotations

import ast
import dis
import functools
import types
from dataclasses import dataclass, field
from typing import Optional

_LOADS = {"LOAD_GLOBAL", "LOAD_NAME"}
_STORES = {"STORE_GLOBAL", "DELETE_GLOBAL", "STORE_NAME", "DELETE_NAME"}


# -- the script's AST ---------------------------------------------------------------------
class _Names(ast.NodeVisitor):
    """Names a module-level statement reads (when it runs) and binds at module level.

    Bodies of functions and lambdas are not run by the statement, so only their
    decorators, defaults and annotations count as reads; names bound inside them are
    local. Comprehensions run, but their targets are local to them.
    """

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.binds: list[str] = []
        self.deletes: list[str] = []
        self._local: list[set[str]] = []  # comprehension scopes

    def _read(self, name: str) -> None:
        if not any(name in scope for scope in self._local) and name not in self.reads:
            self.reads.append(name)

    def _bind(self, name: str) -> None:
        if self._local:
            return
        if name not in self.binds:
            self.binds.append(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._bind(node.id)
        else:
            self._bind(node.id)
            self.deletes.append(node.id)

    def _function(self, node) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        args = node.args
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.visit(default)
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)
        if node.returns is not None:
            self.visit(node.returns)
        self._bind(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(default)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(expr)
        # the class body runs now; names it binds belong to the class, but what it
        # reads comes from the module when the class does not define it first
        body = _Names()
        for stmt in node.body:
            body.visit(stmt)
        for name in body.reads:
            self._read(name)
        self._bind(node.name)

    def _comprehension(self, node) -> None:
        scope: set[str] = set()
        self._local.append(scope)
        for gen in node.generators:
            # the first iterable is evaluated outside the comprehension's scope
            for target in ast.walk(gen.target):
                if isinstance(target, ast.Name):
                    scope.add(target.id)
        self._local.pop()
        self.visit(node.generators[0].iter)
        self._local.append(scope)
        for i, gen in enumerate(node.generators):
            if i:
                self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self._local.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        # PEP 572: the target of a walrus in a comprehension binds in the module
        local, self._local = self._local, []
        self._bind(node.target.id)
        self._local = local

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._bind(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self._bind(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        pass


@dataclass(frozen=True)
class Names:
    reads: tuple[str, ...]
    binds: tuple[str, ...]
    deletes: tuple[str, ...]
    star_import: bool = False


def names_of(node: ast.AST) -> Names:
    """What a module-level statement or expression reads and binds."""
    visitor = _Names()
    visitor.visit(node)
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
               for n in ast.walk(node))
    # loop targets, with-as and except-as names are bound before the body reads them
    bound_first = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            bound_first |= {t.id for t in ast.walk(n.target) if isinstance(t, ast.Name)}
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            bound_first |= {t.id for t in ast.walk(n.optional_vars)
                            if isinstance(t, ast.Name)}
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound_first.add(n.name)
    reads = tuple(r for r in visitor.reads if r not in bound_first or _read_outside(node, r))
    return Names(reads, tuple(visitor.binds), tuple(visitor.deletes), star)


def _read_outside(node: ast.AST, name: str) -> bool:
    """Whether a for loop's iterable (run before its target is bound) reads ``name``."""
    for n in ast.walk(node):
        if isinstance(n, (ast.For, ast.AsyncFor)):
            if any(isinstance(x, ast.Name) and x.id == name for x in ast.walk(n.iter)):
                return True
    return False


# -- the user's code objects ----------------------------------------------------------------
@dataclass(frozen=True)
class CodeFacts:
    loads: frozenset[str]
    stores: frozenset[str]
    imports: frozenset[str]


@functools.lru_cache(maxsize=4096)
def code_facts(code: types.CodeType) -> CodeFacts:
    """Global names a code object (and the code nested in it) loads, stores, imports."""
    loads: set[str] = set()
    stores: set[str] = set()
    imports: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        for ins in dis.get_instructions(current):
            if ins.opname in _LOADS:
                loads.add(ins.argval)
            elif ins.opname in _STORES:
                stores.add(ins.argval)
            elif ins.opname == "IMPORT_NAME":
                imports.add(ins.argval)
        todo.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return CodeFacts(frozenset(loads), frozenset(stores), frozenset(imports))


@dataclass
class Reach:
    """What calling some user code can touch: global names it loads and stores,
    modules it imports, values held in closures and defaults."""

    loads: set[str] = field(default_factory=set)
    stores: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    held: list = field(default_factory=list)  # closure cells and defaults
    opaque: bool = False  # user code we could not see into (e.g. a C-level wrapper)


def reach_of(values, user_globals: dict, limit: int = 500) -> Reach:
    """Follow user functions, methods and classes among ``values`` through the globals
    they load, their closures and defaults, to everything they could run."""
    reach = Reach()
    seen: set[int] = set()
    todo = list(values)
    while todo and len(seen) < limit:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        for code, more in _user_code(value, user_globals):
            facts = code_facts(code)
            reach.loads |= facts.loads
            reach.stores |= facts.stores
            reach.imports |= facts.imports
            for name in facts.loads:
                if name in user_globals:
                    todo.append(user_globals[name])
            for held in more:
                reach.held.append(held)
                todo.append(held)
    return reach


def _user_code(value, user_globals: dict):
    """(code, held values) of the user's code behind ``value``; nothing for library code."""
    if isinstance(value, types.MethodType):
        return _user_code(value.__func__, user_globals)
    if isinstance(value, functools.partial):
        return [(c, list(held) + list(value.args) + list(value.keywords.values()))
                for c, held in _user_code(value.func, user_globals)] or []
    if isinstance(value, types.FunctionType):
        if value.__globals__ is not user_globals:
            return []
        held = [cell.cell_contents for cell in value.__closure__ or ()
                if _cell_full(cell)]
        held += list(value.__defaults__ or ()) + list((value.__kwdefaults__ or {}).values())
        return [(value.__code__, held)]
    if isinstance(value, (staticmethod, classmethod)):
        return _user_code(value.__func__, user_globals)
    if isinstance(value, property):
        return [pair for f in (value.fget, value.fset, value.fdel) if f
                for pair in _user_code(f, user_globals)]
    if isinstance(value, type):
        if not is_user_class(value, user_globals):
            return []
        out = []
        for klass in value.__mro__:
            if is_user_class(klass, user_globals):
                for attr in vars(klass).values():
                    out += _user_code(attr, user_globals)
        return out
    if isinstance(value, types.GeneratorType) and value.gi_code is not None:
        frame_globals = value.gi_frame.f_globals if value.gi_frame is not None else None
        if frame_globals is user_globals:
            return [(value.gi_code, [])]
        return []
    if is_user_class(type(value), user_globals):  # a callable or operated-on instance
        return _user_code(type(value), user_globals)
    return []


def _cell_full(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def is_user_class(klass, user_globals: dict) -> bool:
    return isinstance(klass, type) and klass.__module__ == user_globals.get("__name__")


def is_user_callable(value, user_globals: dict) -> bool:
    return bool(_user_code(value, user_globals))


# IPython turns `%magic ...`, `%%magic` cells and `!command` into calls of these methods of
# `get_ipython()` before the cell is parsed (with the magic's text as string arguments)
_MAGIC_METHODS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}


def magic_names(stmt: ast.stmt) -> Optional[Names]:
    """For a statement that runs an IPython magic or shell command (``x = !ls``
    included): what it reads and binds, its own names and those of the Python code in
    the magic's text when that parses (``%time y = f(x)``, a ``%%capture`` cell);
    None for any other statement. The recorder cannot follow the magic, so it runs as
    one node, as a compound statement does."""
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr in _MAGIC_METHODS
            and isinstance(value.func.value, ast.Call)
            and isinstance(value.func.value.func, ast.Name)
            and value.func.value.func.id == "get_ipython"):
        return None
    own = names_of(stmt)
    # the shell itself is not the program's state: leave `get_ipython` out
    reads = [n for n in own.reads if n != "get_ipython"]
    binds, deletes = list(own.binds), list(own.deletes)
    for arg in value.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            try:
                inner = names_of(ast.parse(arg.value))
            except (SyntaxError, ValueError):
                continue
            reads += [n for n in inner.reads if n not in reads]
            binds += [n for n in inner.binds if n not in binds]
            deletes += [n for n in inner.deletes if n not in deletes]
    return Names(tuple(reads), tuple(binds), tuple(deletes), own.star_import)
