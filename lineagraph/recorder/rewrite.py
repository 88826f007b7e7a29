"""Rewrite a script's AST so that evaluating it reports to the recorder.

Each module-level simple statement (expressions, assignments of every kind, ``del``,
imports) is rewritten expression by expression: ``f(a, k=b)`` becomes
``H.call(7, H.name(5, f), [H.name(6, a)], [H.name(8, b)])``, where ``H`` is the running
recorder (reached through builtins, so the program's ``globals()`` is unchanged) and the
numbers are *sites*: static descriptions of the expression (its kind, its children's
sites, its location). Python still evaluates every operand itself, in its own order,
so short-circuits (``and``, ``or``, ``a if c else b``, chained comparisons) stay
short-circuits: their hooks only see which operands ran.

Compound statements (if/for/while/try/with/match/def/class) run unchanged between
``H.block_enter(n)`` and ``H.block_exit(n)`` (the exit in a ``finally``), and become one
node each, as in LineaPy. Comprehensions, lambdas, f-strings and other expressions
with scopes of their own are evaluated unchanged inside ``H.opaque``.

Every inserted node carries the location of the code it stands for, and the module is
compiled with the script's real file name, so tracebacks show the user's lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Optional

from .analysis import Names, magic_names, names_of

HOOKS = "__lineagraph_recorder__"

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
           ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.LShift: "lshift",
           ast.RShift: "rshift", ast.BitOr: "or_", ast.BitXor: "xor", ast.BitAnd: "and_",
           ast.MatMult: "matmul"}
_UNARY = {ast.UAdd: "pos", ast.USub: "neg", ast.Not: "not_", ast.Invert: "invert"}
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
            ast.GtE: "ge", ast.Is: "is_", ast.IsNot: "is_not", ast.In: "contains",
            ast.NotIn: "not_in"}
_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_LOAD = ast.Load()  # one shared context, as CPython's own parser does
_SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Import,
           ast.ImportFrom, ast.Pass)
_OPAQUE = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
           ast.JoinedStr, ast.Await, ast.Yield, ast.YieldFrom, ast.Starred)


@dataclass
class Site:
    """One place in the script that reports to the recorder."""

    id: int
    kind: str
    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int
    children: list = field(default_factory=list)   # sites (or None) in a fixed order
    info: dict = field(default_factory=dict)       # kind-specific static facts
    names: Optional[Names] = None                  # for blocks and opaque expressions


class Rewriter:
    def __init__(self, source: str, first_id: int = 0):
        self.source = source
        self.first_id = first_id  # sites of earlier cells come first
        self.sites: list[Site] = []

    # -- helpers ----------------------------------------------------------------------------
    def site(self, kind: str, node: ast.AST, children=(), **info: Any) -> Site:
        s = Site(self.first_id + len(self.sites), kind, node.lineno, node.col_offset,
                 getattr(node, "end_lineno", node.lineno) or node.lineno,
                 getattr(node, "end_col_offset", node.col_offset) or node.col_offset,
                 list(children), info)
        self.sites.append(s)
        return s

    def hook(self, name: str, site: Site, *args: ast.expr, where: ast.AST) -> ast.expr:
        # built located, so no walk is needed; positional fields and the location put
        # into __dict__ at once: keyword arguments made building a hook twice as slow
        loc = {k: getattr(where, k) for k in _LOCATION}
        for arg in args:
            if not hasattr(arg, "lineno"):
                _located(arg, where)
        recorder = ast.Name(HOOKS, _LOAD)
        recorder.__dict__.update(loc)
        method = ast.Attribute(recorder, name, _LOAD)
        method.__dict__.update(loc)
        site_id = ast.Constant(site.id)
        site_id.__dict__.update(loc)
        call = ast.Call(method, [site_id, *args], [])
        call.__dict__.update(loc)
        return call

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    # -- module -----------------------------------------------------------------------------
    def module(self, tree: ast.Module, script: bool = False) -> ast.Module:
        """``script``: the tree is a whole script, whose docstring and ``__future__``
        imports stay first and as they are."""
        body: list[ast.stmt] = []
        statements = tree.body
        if script:
            body, statements = self.header(statements)
        for stmt in statements:
            magic = magic_names(stmt)
            if magic is not None:  # IPython's magics and shell escapes: one opaque node
                body.extend(self.block(stmt, magic, dynamic=True))
            elif isinstance(stmt, _SIMPLE):
                body.extend(self.simple(stmt))
            else:  # a magic inside (`for ...: %run step.py`) may bind unseen names too
                body.extend(self.block(stmt, dynamic=any(
                    magic_names(inner) is not None for inner in ast.walk(stmt)
                    if isinstance(inner, ast.stmt) and inner is not stmt)))
        # every node made here is located (hook, _located): the runner compiles this as
        # it is and walks it with ast.fix_missing_locations only if compile refuses it
        return ast.Module(body=body, type_ignores=tree.type_ignores)

    def header(self, statements: list[ast.stmt]) -> tuple[list[ast.stmt], list[ast.stmt]]:
        """A script's docstring and ``from __future__`` imports, unchanged and first (a
        hook before them would make the docstring an expression, leaving ``__doc__``
        None, and a future import one that comes too late to compile), then the hooks
        recording those imports; and the statements after them."""
        kept: list[ast.stmt] = []
        hooks: list[ast.stmt] = []
        rest = list(statements)
        if rest and isinstance(rest[0], ast.Expr) and isinstance(rest[0].value, ast.Constant) \
                and isinstance(rest[0].value.value, str):
            kept.append(rest.pop(0))  # the docstring: Python's __doc__, nothing to record
        while rest and isinstance(rest[0], ast.ImportFrom) and rest[0].module == "__future__":
            stmt, *recorded = self.simple(rest.pop(0))
            kept.append(stmt)
            hooks.extend(recorded)
        return kept + hooks, rest

    def block(self, stmt: ast.stmt, names: Optional[Names] = None,
              dynamic: bool = False) -> list[ast.stmt]:
        """One opaque node for ``stmt``; ``dynamic``: it may bind names its text does not
        show (``%run helper.py``), so the globals are compared before and after it."""
        site = self.site("block", stmt, code=self.text(stmt), dynamic=dynamic)
        decorators = getattr(stmt, "decorator_list", [])
        if decorators:  # a def's or class's location starts at `def`, after them
            first = min(decorators, key=lambda d: (d.lineno, d.col_offset))
            site.lineno, site.col_offset = first.lineno, first.col_offset - 1
            lines = self.source.splitlines(keepends=True)
            site.info["code"] = "".join(lines[site.lineno - 1:stmt.end_lineno]).strip("\n")
        site.names = names or names_of(stmt)
        enter = _located(ast.Expr(self.hook("block_enter", site, where=stmt)), stmt)
        exit_ = _located(ast.Expr(self.hook("block_exit", site, where=stmt)), stmt)
        guarded = _located(ast.Try(body=[stmt], handlers=[], orelse=[], finalbody=[exit_]),
                           stmt)
        return [enter, guarded]

    # -- simple statements ------------------------------------------------------------------
    def simple(self, stmt: ast.stmt) -> list[ast.stmt]:
        if isinstance(stmt, ast.Pass):
            return [stmt]
        if isinstance(stmt, ast.Expr):
            value, _ = self.expr(stmt.value)
            return [_located(ast.Expr(value), stmt)]
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            site = self.site("import", stmt, module=getattr(stmt, "module", None),
                             level=getattr(stmt, "level", 0),
                             names=[(a.name, a.asname) for a in stmt.names],
                             from_=isinstance(stmt, ast.ImportFrom))
            return [stmt, _located(ast.Expr(self.hook("imported", site, where=stmt)), stmt)]
        if isinstance(stmt, ast.Assign):
            return self.assign(stmt, stmt.targets, stmt.value)
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                return [stmt]
            if isinstance(stmt.target, ast.Name):
                value, vsite = self.aliased(stmt.value, stmt)
                new = ast.AnnAssign(target=stmt.target, annotation=stmt.annotation,
                                    value=value, simple=stmt.simple)
                bind = self.hook("bind", vsite, ast.Constant(stmt.target.id), where=stmt)
                return [_located(new, stmt), _located(ast.Expr(bind), stmt)]
            return self.assign(stmt, [stmt.target], stmt.value)
        if isinstance(stmt, ast.AugAssign):
            return self.augassign(stmt)
        if isinstance(stmt, ast.Delete):
            out: list[ast.stmt] = []
            for target in stmt.targets:
                out.extend(self.delete(target, stmt))
            return out
        raise AssertionError(type(stmt))  # pragma: no cover

    def aliased(self, value: ast.expr, stmt: ast.stmt):
        """``x = y`` binds a second name to y's object: an alias node on this line."""
        new, site = self.expr(value)
        if isinstance(value, ast.Name):
            alias = self.site("alias", stmt, [site.id])
            return self.hook("alias", alias, new, where=value), alias
        return new, site

    def assign(self, stmt, targets, value) -> list[ast.stmt]:
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            new, site = self.aliased(value, stmt)
            name = targets[0].id
            return [_located(ast.Assign(targets=[ast.Name(name, ast.Store())], value=new), stmt),
                    _located(ast.Expr(self.hook("bind", site, ast.Constant(name),
                                                where=stmt)), stmt)]
        new, site = self.aliased(value, stmt)
        stash = self.site("stash", stmt, [site.id])
        out: list[ast.stmt] = [_located(ast.Expr(self.hook("stash", stash, new, where=stmt)),
                                        stmt)]
        for target in targets:
            out.extend(self.store(target, stash, self.hook("stashed", stash, where=stmt), stmt))
        return out

    def store(self, target: ast.expr, vsite: Site, value: ast.expr, stmt) -> list[ast.stmt]:
        """Statements that store ``value`` (reported by ``vsite``) into ``target``."""
        if isinstance(target, ast.Name):
            return [_located(ast.Assign(targets=[ast.Name(target.id, ast.Store())],
                                        value=value), stmt),
                    _located(ast.Expr(self.hook("bind", vsite, ast.Constant(target.id),
                                                where=stmt)), stmt)]
        if isinstance(target, ast.Attribute):
            obj, osite = self.expr(target.value)
            site = self.site("setattr", target, [osite.id, vsite.id], attr=target.attr)
            return [_located(ast.Expr(self.hook("setattr_", site, obj, value,
                                                where=target)), stmt)]
        if isinstance(target, ast.Subscript):
            obj, osite = self.expr(target.value)
            index, isite = self.expr(target.slice)
            site = self.site("setitem", target, [osite.id, isite.id, vsite.id])
            return [_located(ast.Expr(self.hook("setitem_", site, obj, index, value,
                                                where=target)), stmt)]
        if isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            star = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), None)
            site = self.site("unpack", target, [vsite.id], count=len(elts), star=star)
            out = [_located(ast.Expr(self.hook("unpack", site, value, where=target)), stmt)]
            for i, elt in enumerate(elts):
                inner = elt.value if isinstance(elt, ast.Starred) else elt
                item = self.site("item", elt, [site.id], index=i)
                out.extend(self.store(inner, item, self.hook("item", item, where=elt), stmt))
            return out
        if isinstance(target, ast.Starred):
            return self.store(target.value, vsite, value, stmt)
        raise SyntaxError(f"cannot assign to {type(target).__name__}")  # pragma: no cover

    def augassign(self, stmt: ast.AugAssign) -> list[ast.stmt]:
        op = "i" + _BINOPS[type(stmt.op)].rstrip("_")
        target = stmt.target
        if isinstance(target, ast.Name):
            load, lsite = self.expr(ast.copy_location(ast.Name(target.id, ast.Load()), target))
            right, rsite = self.expr(stmt.value)
            site = self.site("binop", stmt, [lsite.id, rsite.id], op=op)
            value = self.hook("binop", site, load, right, where=stmt)
            return [_located(ast.Assign(targets=[ast.Name(target.id, ast.Store())],
                                        value=value), stmt),
                    _located(ast.Expr(self.hook("bind", site, ast.Constant(target.id),
                                                where=stmt)), stmt)]
        # obj.attr op= v / obj[i] op= v: obj and i are evaluated once
        obj, osite = self.expr(target.value)
        ostash = self.site("stash", target.value, [osite.id])
        out = [_located(ast.Expr(self.hook("stash", ostash, obj, where=stmt)), stmt)]
        held = self.hook("stashed", ostash, where=stmt)
        if isinstance(target, ast.Attribute):
            get = self.site("getattr", target, [ostash.id], attr=target.attr)
            current = self.hook("getattr", get, held, where=target)
        else:
            index, isite = self.expr(target.slice)
            istash = self.site("stash", target.slice, [isite.id])
            out.append(_located(ast.Expr(self.hook("stash", istash, index, where=stmt)), stmt))
            get = self.site("getitem", target, [ostash.id, istash.id])
            current = self.hook("getitem", get, held,
                                self.hook("stashed", istash, where=stmt), where=target)
        right, rsite = self.expr(stmt.value)
        site = self.site("binop", stmt, [get.id, rsite.id], op=op)
        value = self.hook("binop", site, current, right, where=stmt)
        if isinstance(target, ast.Attribute):
            put = self.site("setattr", target, [ostash.id, site.id], attr=target.attr)
            out.append(_located(ast.Expr(self.hook(
                "setattr_", put, self.hook("stashed", ostash, where=stmt), value,
                where=stmt)), stmt))
        else:
            put = self.site("setitem", target, [ostash.id, istash.id, site.id])
            out.append(_located(ast.Expr(self.hook(
                "setitem_", put, self.hook("stashed", ostash, where=stmt),
                self.hook("stashed", istash, where=stmt), value, where=stmt)), stmt))
        return out

    def delete(self, target: ast.expr, stmt) -> list[ast.stmt]:
        if isinstance(target, ast.Name):
            site = self.site("delname", target, name=target.id)
            return [_located(ast.Delete(targets=[ast.Name(target.id, ast.Del())]), stmt),
                    _located(ast.Expr(self.hook("delname", site, where=stmt)), stmt)]
        if isinstance(target, ast.Attribute):
            obj, osite = self.expr(target.value)
            site = self.site("delattr", target, [osite.id], attr=target.attr)
            return [_located(ast.Expr(self.hook("delattr_", site, obj, where=target)), stmt)]
        if isinstance(target, ast.Subscript):
            obj, osite = self.expr(target.value)
            index, isite = self.expr(target.slice)
            site = self.site("delitem", target, [osite.id, isite.id])
            return [_located(ast.Expr(self.hook("delitem_", site, obj, index,
                                                where=target)), stmt)]
        out: list[ast.stmt] = []
        for elt in target.elts:  # del (a, b) deletes a, then b
            out.extend(self.delete(elt, stmt))
        return out

    # -- expressions ------------------------------------------------------------------------
    def expr(self, node: ast.expr) -> tuple[ast.expr, Site]:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None or isinstance(node, _OPAQUE):
            return self.opaque(node)
        return method(node)

    def opaque(self, node: ast.expr) -> tuple[ast.expr, Site]:
        site = self.site("opaque", node, code=self.text(node))
        site.names = names_of(node)
        enter = self.hook("enter", site, where=node)
        return self.hook("opaque", site, enter, node, where=node), site

    def expr_Constant(self, node: ast.Constant):
        site = self.site("literal", node)
        return self.hook("literal_hook", site, node, where=node), site

    def expr_Name(self, node: ast.Name):
        site = self.site("name", node, name=node.id)
        return self.hook("name", site, node, where=node), site

    def expr_Attribute(self, node: ast.Attribute):
        obj, osite = self.expr(node.value)
        site = self.site("getattr", node, [osite.id], attr=node.attr)
        return self.hook("getattr", site, obj, where=node), site

    def expr_Subscript(self, node: ast.Subscript):
        obj, osite = self.expr(node.value)
        index, isite = self.expr(node.slice)
        site = self.site("getitem", node, [osite.id, isite.id])
        return self.hook("getitem", site, obj, index, where=node), site

    def expr_Slice(self, node: ast.Slice):
        parts, children = [], []
        for part in (node.lower, node.upper, node.step):
            if part is None:
                parts.append(ast.Constant(None))
                children.append(None)
            else:
                new, s = self.expr(part)
                parts.append(new)
                children.append(s.id)
        site = self.site("slice", node, children)
        return self.hook("slice", site, *parts, where=node), site

    def expr_Call(self, node: ast.Call):
        func, fsite = self.expr(node.func)
        args, stars, children = [], [], [fsite.id]
        for arg in node.args:
            starred = isinstance(arg, ast.Starred)
            new, s = self.expr(arg.value if starred else arg)
            args.append(new)
            stars.append(starred)
            children.append(s.id)
        kwargs, keys = [], []
        for kw in node.keywords:
            new, s = self.expr(kw.value)
            kwargs.append(new)
            keys.append(kw.arg)
            children.append(s.id)
        site = self.site("call", node, children, stars=stars, keys=keys)
        return self.hook("call", site, func, _list(args, node), _list(kwargs, node),
                         where=node), site

    def expr_BinOp(self, node: ast.BinOp):
        left, lsite = self.expr(node.left)
        right, rsite = self.expr(node.right)
        site = self.site("binop", node, [lsite.id, rsite.id], op=_BINOPS[type(node.op)])
        return self.hook("binop", site, left, right, where=node), site

    def expr_UnaryOp(self, node: ast.UnaryOp):
        operand, osite = self.expr(node.operand)
        site = self.site("unary", node, [osite.id], op=_UNARY[type(node.op)])
        return self.hook("unary", site, operand, where=node), site

    def expr_Compare(self, node: ast.Compare):
        if len(node.ops) == 1:
            left, lsite = self.expr(node.left)
            right, rsite = self.expr(node.comparators[0])
            site = self.site("binop", node, [lsite.id, rsite.id],
                             op=_COMPARE[type(node.ops[0])])
            return self.hook("binop", site, left, right, where=node), site
        return self.lazy("chain", node, [node.left, *node.comparators],
                         lambda parts: ast.Compare(parts[0], node.ops, parts[1:]))

    def expr_BoolOp(self, node: ast.BoolOp):
        kind = "and" if isinstance(node.op, ast.And) else "or"
        return self.lazy(kind, node, node.values, lambda parts: ast.BoolOp(node.op, parts))

    def expr_IfExp(self, node: ast.IfExp):
        return self.lazy("ifexp", node, [node.test, node.body, node.orelse],
                         lambda parts: ast.IfExp(*parts))

    def lazy(self, kind: str, node: ast.expr, operands, build):
        """An expression Python evaluates partly: its hook learns which operands ran."""
        parts, children = [], []
        for operand in operands:
            new, s = self.expr(operand)
            parts.append(new)
            children.append(s.id)
        site = self.site("lazy", node, children, op=kind)
        inner = _located(build(parts), node)
        return self.hook("lazy", site, self.hook("enter", site, where=node), inner,
                         where=node), site

    def _display(self, kind: str, node, elts):
        items, stars, children = [], [], []
        for elt in elts:
            starred = isinstance(elt, ast.Starred)
            new, s = self.expr(elt.value if starred else elt)
            items.append(new)
            stars.append(starred)
            children.append(s.id)
        site = self.site(kind, node, children, stars=stars)
        return self.hook("display", site, _list(items, node), where=node), site

    def expr_List(self, node: ast.List):
        return self._display("list", node, node.elts)

    def expr_Tuple(self, node: ast.Tuple):
        return self._display("tuple", node, node.elts)

    def expr_Set(self, node: ast.Set):
        return self._display("set", node, node.elts)

    def expr_Dict(self, node: ast.Dict):
        keys, values, children = [], [], []
        for key, value in zip(node.keys, node.values):
            if key is None:
                keys.append(ast.Constant(None))
                children.append(None)
            else:
                new, s = self.expr(key)
                keys.append(new)
                children.append(s.id)
            new, s = self.expr(value)
            values.append(new)
            children.append(s.id)
        site = self.site("dict", node, children, unpack=[k is None for k in node.keys])
        return self.hook("dict_", site, _list(keys, node), _list(values, node),
                         where=node), site

    def expr_NamedExpr(self, node: ast.NamedExpr):
        value, vsite = self.expr(node.value)
        if isinstance(node.value, ast.Name):
            alias = self.site("alias", node, [vsite.id])
            value, vsite = self.hook("alias", alias, value, where=node), alias
        site = self.site("walrus", node, [vsite.id], name=node.target.id)
        inner = _located(ast.NamedExpr(target=node.target, value=value), node)
        return self.hook("walrus", site, inner, where=node), site


def _list(items: list, where: ast.AST) -> ast.expr:
    return _located(ast.List(elts=items, ctx=ast.Load()), where)


def _located(new: ast.AST, where: ast.AST) -> Any:
    """Give ``where``'s location to the nodes of ``new`` that have none. A node that
    has one was parsed or located already, and so were the nodes under it: the walk
    stops there (walking them again made rewriting quadratic in expression depth;
    the runner's ``fix_missing_locations`` fallback still covers anything missed)."""
    todo = [new]
    while todo:
        node = todo.pop()
        if "lineno" in node._attributes:
            if hasattr(node, "lineno"):
                continue
            node.__dict__.update({k: getattr(where, k) for k in _LOCATION})
        todo.extend(ast.iter_child_nodes(node))
    return new


def rewrite(tree: ast.Module, source: str, first_id: int = 0, script: bool = False
            ) -> tuple[ast.Module, list[Site]]:
    """The tree with its hooks, and its sites, numbered from ``first_id`` (a notebook's
    cells number theirs after those of the cells run before). ``script``: a whole
    script (its docstring and ``__future__`` imports stay first, see ``header``)."""
    rewriter = Rewriter(source, first_id)
    return rewriter.module(tree, script=script), rewriter.sites
