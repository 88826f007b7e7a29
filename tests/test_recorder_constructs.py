"""One recorded program per construct, on the real Neo4j: the graph has the expected
shape, the recorded value is what plain Python computes, and the slice, re-run in a
fresh interpreter, recomputes it. The programs use LineaPy's ``import lineapy`` (the
recording's shim), whose ``save`` line slices keep, as LineaPy's did."""

from __future__ import annotations

import sys

import pytest

from recorder_helpers import plain_value, record

# (construct, program, artifact name, lines the slice must not hold)
CASES = [
    ("assignment and alias", """
        import lineapy
        a = [1, 2]
        b = a
        b.append(3)
        c = [9]
        lineapy.save(a, "a")
    """, "a", ["c = [9]"]),
    ("calls with keyword and starred arguments", """
        import lineapy
        def f(x, y, *rest, k=0, **more):
            return (x, y, rest, k, sorted(more.items()))
        args = [1, 2, 3]
        opts = {"z": 5}
        r = f(*args, k=4, **opts)
        lineapy.save(r, "r")
    """, "r", []),
    ("attributes and subscripts, loads and stores", """
        import lineapy
        class Box:
            pass
        box = Box()
        box.items = {"a": [1]}
        box.items["a"].append(2)
        box.items["b"] = box.items["a"][0:1]
        unrelated = {"z": 0}
        unrelated["z"] = 1
        lineapy.save(box.items, "items")
    """, "items", ['unrelated["z"] = 1']),
    ("every literal", """
        import lineapy
        values = ("s", b"b", 1, 2.5, True, None, ..., 10**30, 3j, -0.0)
        lineapy.save(values, "values")
    """, "values", []),
    ("imports of each style", """
        import lineapy
        import os.path
        import json as j
        from collections import OrderedDict
        from math import *
        d = OrderedDict(a=j.dumps({"p": os.path.basename("/x/y.txt")}), b=floor(pi))
        lineapy.save(d, "d")
    """, "d", []),
    ("if/elif/else, for, while, try, with", """
        import lineapy
        n = 7
        if n < 0:
            kind = "neg"
        elif n < 5:
            kind = "small"
        else:
            kind = "big"
        acc = []
        for i in range(n):
            acc.append(i * i)
        while len(acc) > 5:
            acc.pop()
        try:
            ratio = 1 / 0
        except ZeroDivisionError:
            ratio = None
        with open("out.txt", "w") as fh:
            fh.write(kind)
        lineapy.save((kind, acc, ratio), "result")
    """, "result", []),
    ("comprehensions make views", """
        import lineapy
        rows = [[1], [2], [3]]
        firsts = [r for r in rows]
        firsts[0].append(99)
        squares = {x: x * x for x in range(4)}
        evens = {x for x in range(6) if x % 2 == 0}
        total = sum(x for x in range(5))
        lineapy.save(rows, "rows")
    """, "rows", ["squares =", "evens =", "total ="]),
    ("a view whose own cache a call fills leaves its frame unchanged", """
        import lineapy
        import pandas as pd
        frame = pd.DataFrame({"city": ["oslo", "rome", "oslo"], "temp": [3.0, 18.5, 5.0]})
        by_city = frame.groupby("city")["temp"].mean().round(2)
        frame = pd.get_dummies(frame, columns=["city"], dtype=int)
        lineapy.save(frame, "frame")
    """, "frame", ["by_city ="]),
    ("a call changing a view changes what it views", """
        import lineapy
        import numpy as np
        a = np.arange(6)
        v = a[2:]
        v.fill(0)
        other = a.sum()
        lineapy.save(a, "a")
    """, "a", ["other ="]),
    ("a module the program writes, then imports", """
        import lineapy
        with open("written_mod.py", "w") as fh:
            fh.write("def triple(v):\\n    return v * 3\\n")
        from written_mod import triple
        other = 5
        lineapy.save(triple(4), "tripled")
    """, "tripled", ["other ="]),
    ("lambdas and f-strings", """
        import lineapy
        scale = 3
        f = lambda v: v * scale
        label = f"{f(2)}-{scale!r:>4}"
        lineapy.save(label, "label")
    """, "label", []),
    ("augmented assignment", """
        import lineapy
        total = 1
        total += 4
        xs = [1]
        ys = xs
        ys += [2]
        class C:
            pass
        c = C()
        c.n = 1
        c.n *= 5
        d = {"k": 2}
        d["k"] -= 1
        lineapy.save((total, xs, c.n, d), "aug")
    """, "aug", []),
    ("del", """
        import lineapy
        a = [1, 2, 3, 4]
        del a[0], a[0]
        b = {"x": 1, "y": 2}
        del b["x"]
        tmp = 5
        del tmp
        lineapy.save((a, b), "deleted")
    """, "deleted", []),
    ("starred unpacking and walrus", """
        import lineapy
        first, *middle, last = [1, 2, 3, 4, 5]
        (p, q), r = (6, 7), 8
        if (n := len(middle)) > 1:
            pass
        lineapy.save((first, middle, last, p, q, r, n), "unpacked")
    """, "unpacked", []),
    ("and / or short-circuit, conditional expression, chained compare", """
        import lineapy
        a = 2 and 3
        b = None or "d"
        c = 0 and undefined_name
        d = "yes" if 1 < 2 < 3 else "no"
        lineapy.save((a, b, c, d), "logic")
    """, "logic", []),
    ("decorators, closures and generators", """
        import lineapy
        import functools
        calls = []
        def logged(fn):
            @functools.wraps(fn)
            def inner(*a):
                calls.append(fn.__name__)
                return fn(*a)
            return inner
        @logged
        def gen(n):
            for i in range(n):
                yield i * 2
        def counter():
            count = 0
            def inc():
                nonlocal count
                count += 1
                return count
            return inc
        tick = counter()
        tick()
        values = list(gen(3)) + [tick()]
        lineapy.save((values, calls), "gen")
    """, "gen", []),
    ("classes whose methods mutate self", """
        import lineapy
        class Counter:
            def __init__(self):
                self.n = 0
            def inc(self, by=1):
                self.n += by
                return self
        c = Counter()
        c.inc()
        c.inc(by=5)
        other = Counter()
        other.inc()
        lineapy.save(c.n, "count")
    """, "count", ["other.inc()"]),
    ("user functions mutating their arguments and globals", """
        import lineapy
        seen = []
        def fill(xs, v):
            xs.append(v)
            seen.append(v)
        data = [0]
        fill(data, 1)
        def pure(xs):
            return len(xs)
        size = pure(data)
        lineapy.save((data, seen, size), "filled")
    """, "filled", []),
    ("in-place library calls and random state", """
        import lineapy
        import random
        random.seed(4)
        noise = random.random()
        deck = list(range(10))
        random.shuffle(deck)
        import numpy as np
        arr = np.zeros(3)
        arr.fill(7)
        rng = np.random.default_rng(1)
        rng.normal()
        draw = rng.integers(0, 100, 3).tolist()
        lineapy.save((deck, arr.tolist(), draw), "state")
    """, "state", []),
    ("exceptions caught at top level", """
        import lineapy
        def risky(x):
            if x > 2:
                raise ValueError("too big")
            return x
        out = []
        for v in range(5):
            try:
                out.append(risky(v))
            except ValueError as err:
                out.append(str(err))
        lineapy.save(out, "out")
    """, "out", []),
    ("files read after they were written", """
        import lineapy
        with open("a.txt", "w") as fh:
            fh.write("first")
        with open("b.txt", "w") as fh:
            fh.write("other")
        text = open("a.txt").read()
        lineapy.save(text, "text")
    """, "text", ['open("b.txt", "w")']),
]


@pytest.mark.parametrize("construct,program,name,left_out", CASES, ids=[c[0] for c in CASES])
def test_a_construct_records_its_value_and_a_slice_that_recomputes_it(
        store, tmp_path, construct, program, name, left_out):
    recording = record(store, tmp_path, program)
    assert recording.result.exit_code == 0
    expected = plain_value(tmp_path, program, name)
    value = recording.value(name)
    assert _same(value, expected), (value, expected)
    assert _same(recording.rerun(name), value), recording.slice(name, keep_save=True)
    code = recording.slice(name)
    for text in left_out:
        assert text not in code, code


def _same(a, b) -> bool:
    try:
        import numpy as np
        import pandas as pd
        if isinstance(a, np.ndarray):
            return bool((a == b).all())
        if isinstance(a, (pd.DataFrame, pd.Series)):
            return a.equals(b)
    except ImportError:  # pragma: no cover
        pass
    return a == b


def test_calls_record_positional_keyword_and_starred_arguments(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        def f(*a, **k):
            return a, k
        xs = [1]
        kw = {"z": 2}
        r = f(0, *xs, k=1, **kw)
        lineapy.save(r, "r")
    """)
    calls = [n for n in recording.of_type("CallNode")
             if n.source_location and n.source_location.lineno == 7
             and len(n.positional_args) == 2]
    assert len(calls) == 1
    call = calls[0]
    assert [a.starred for a in call.positional_args] == [False, True]
    assert {(k.key, k.starred) for k in call.keyword_args} == {("k", False), ("**", True)}


def test_imports_carry_the_library_version(store, tmp_path):
    import numpy

    recording = record(store, tmp_path, """
        import numpy as np
        from collections import deque
        x = np.arange(3)
    """)
    imports = {n.name: n for n in recording.of_type("ImportNode")}
    assert imports["numpy"].version == numpy.__version__
    assert imports["numpy"].package_name == "numpy"
    assert "collections" in imports


def test_library_versions_come_from_the_distribution_else_the_module():
    import importlib.metadata
    import types

    from lineagraph.recorder import imports

    imports.library_version.cache_clear()
    assert imports.library_version("pydantic") == importlib.metadata.version("pydantic")
    assert imports.library_version("json") == sys.modules["json"].__version__  # stdlib
    assert imports.library_version("sys") is None  # built in: no file, no version
    shim = types.ModuleType("lineagraph_test_shim")
    shim.__version__ = "9.9"
    sys.modules["lineagraph_test_shim"] = shim
    try:  # a module read from no file (lineapy under `lineagraph run`): its own version
        assert imports.library_version("lineagraph_test_shim") == "9.9"
    finally:
        del sys.modules["lineagraph_test_shim"]


def test_literals_are_literal_nodes(store, tmp_path):
    recording = record(store, tmp_path, """
        x = ("s", b"b", 1, 2.5, True, None, ...)
    """)
    values = {repr(n.value) for n in recording.of_type("LiteralNode")}
    assert {"'s'", "b'b'", "1", "2.5", "True", "None", "Ellipsis"} <= values


def test_a_string_utf8_cannot_hold_is_recorded_as_the_call_that_makes_it(store, tmp_path):
    # Python allows lone surrogates in str literals; Neo4j stores UTF-8, which cannot
    # hold them: str(its bytes, "utf-8", "surrogatepass") gives the same string back
    program = """
        import lineapy
        odd = "x\\udc80y"
        both = [odd, "plain"]
        lineapy.save(both, "both")
    """
    recording = record(store, tmp_path, program)
    assert recording.result.exit_code == 0
    assert recording.value("both") == ["x\udc80y", "plain"]
    literals = {repr(n.value) for n in recording.of_type("LiteralNode")}
    assert {"b'x\\xed\\xb2\\x80y'", "'utf-8'", "'surrogatepass'", "'plain'"} <= literals
    calls = [n for n in recording.of_type("CallNode")
             if len(n.positional_args) == 3 and recording.store.get_node_by_id(
                 n.function_id).name == "str"]
    assert len(calls) == 1
    assert recording.rerun("both") == ["x\udc80y", "plain"]


def test_a_mutation_is_a_mutate_node_and_a_block_binds_global_nodes(store, tmp_path):
    recording = record(store, tmp_path, """
        xs = []
        xs.append(1)
        for i in range(2):
            last = i
    """)
    assert recording.of_type("MutateNode")
    assert {n.name for n in recording.of_type("GlobalNode")} >= {"i", "last"}


def test_a_pure_call_on_a_list_mutates_nothing(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        xs = [3, 1, 2]
        n = len(xs)
        s = sorted(xs)
        lineapy.save(xs, "xs")
    """)
    assert recording.slice("xs").strip() == "xs = [3, 1, 2]"


def test_a_user_function_that_only_reads_its_argument_is_left_out(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        def peek(d):
            return d["k"]
        d = {"k": 1}
        v = peek(d)
        lineapy.save(d, "d")
    """)
    assert "peek(d)" not in recording.slice("d")


def test_and_or_are_short_circuits_not_bitwise_operators(store, tmp_path):
    recording = record(store, tmp_path, """
        import lineapy
        x = None or "d"
        lineapy.save(x, "x")
    """)
    assert recording.value("x") == "d"
    names = {n.name for n in recording.of_type("LookupNode")}
    assert "l_or" in names and "or_" not in names
