"""Reading one key of a plain dict depends on the changes that wrote that key
(lineagraph.recorder.keys), and on everything when the recorder cannot tell which keys
changed: each slice re-runs to the value plain Python computes."""

from __future__ import annotations

import pytest

from recorder_helpers import plain_value, record

# (case, program, artifact, lines the slice must hold, lines it must leave out)
CASES = [
    ("other keys written after", """
        import lineapy
        d = {"a": 1, "b": 0}
        d["b"] = 2
        d.update({"c": 3})
        d.setdefault("e", 5)
        x = d["a"]
        lineapy.save(x, "x")
    """, "x", ['d = {"a": 1, "b": 0}'], ['d["b"] = 2', "d.update", "d.setdefault"]),
    ("the key written, then others", """
        import lineapy
        d = {"a": 1}
        d["a"] = 5
        d["b"] = 2
        x = d.get("a")
        lineapy.save(x, "x")
    """, "x", ['d["a"] = 5'], ['d["b"] = 2']),
    ("pop reads and writes its key", """
        import lineapy
        d = {"a": 1, "b": 2}
        y = d.pop("a")
        d["c"] = 3
        z = d.get("a", "gone")
        lineapy.save(z, "z")
    """, "z", ['y = d.pop("a")'], ['d["c"] = 3']),
    ("a function changes it: every key", """
        import lineapy
        def poke(m):
            m["a"] = 9
        d = {"a": 1}
        d["b"] = 2
        poke(d)
        x = d.pop("a")
        lineapy.save(x, "x")
    """, "x", ["poke(d)", "def poke(m):"], []),
    ("clear changes every key", """
        import lineapy
        d = {"a": 1}
        d.clear()
        d["b"] = 2
        x = d.get("a", 0)
        lineapy.save(x, "x")
    """, "x", ["d.clear()"], ['d["b"] = 2']),
    ("a value held under the key changes", """
        import lineapy
        inner = {"k": 1}
        d = {"a": inner}
        d["b"] = 0
        inner["k"] = 2
        x = d["a"]
        lineapy.save(x, "x")
    """, "x", ['inner["k"] = 2'], []),
    ("update with keys of unknown types", """
        import lineapy
        d = {"a": 1}
        d.update([("a", 7)])
        x = d["a"]
        lineapy.save(x, "x")
    """, "x", ['d.update([("a", 7)])'], []),
    ("a method held in a variable reads the latest", """
        import lineapy
        d = {}
        d["a"] = 1
        d["b"] = 2
        get = d.get
        first = get("a")
        d["a"] = 5
        v = get("a")
        lineapy.save(v, "v")
    """, "v", ['d["a"] = 5'], []),
    ("a dict subclass is not followed", """
        import lineapy
        from collections import defaultdict
        d = defaultdict(int)
        d["b"] += 1
        d["c"] = 4
        x = d["a"]
        lineapy.save(dict(d), "x")
    """, "x", ['d["c"] = 4'], []),
    ("deleting another key", """
        import lineapy
        d = {"a": 1, "b": 2}
        del d["b"]
        x = d["a"]
        lineapy.save([x, d], "x")
    """, "x", ['del d["b"]'], []),
]


@pytest.mark.parametrize("case, program, name, held, left_out", CASES,
                         ids=[c[0] for c in CASES])
def test_a_key_read_keeps_the_changes_that_can_matter(store, tmp_path, case, program, name,
                                                      held, left_out):
    recording = record(store, tmp_path, program)
    assert recording.result.exit_code == 0
    value = recording.value(name)
    assert value == plain_value(tmp_path, program, name)
    assert recording.rerun(name) == value, recording.slice(name, keep_save=True)
    code = recording.slice(name)
    for text in held:
        assert text in code, code
    for text in left_out:
        assert text not in code, code
