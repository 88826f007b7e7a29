"""Synthetic LineaPy-shaped sessions as plain data, shared by both sides of the benchmarks.

Standard library only: ``benchmarks/run.py`` (lineagraph's venv) and
``benchmarks/lineapy_side.py`` (LineaPy 0.2.3's venv, Python 3.10) both import it, and
the runner hands the same pickled graph to both.

A session is one script. Its first 25 lines hold a fixed 50-node slice, the ancestors of
the artifact ``<base>-slice``::

    v1 = 1                      # a literal
    v2 = add(v1, 2)             # a literal and a call, lines 2..25
    ...
    v25 = add(v24, 25)

(1 lookup of ``add`` without a location + 1 + 24 * 2 = 50 nodes). The rest is a trace in
the proportions of the twelve real LineaPy 0.2.3 fixtures under ``tests/fixtures/lineapy``
(4,439 nodes: 38% calls, 34% lookups, 22% literals, 5% mutations, 0.7% imports, 0.4%
globals; 60% of nodes located; 1.7 positional arguments per call; about 5.5 characters
of code per node; LineaPy 0.2.3 never writes if/else nodes). Calls use mostly recent
values, slice nodes among them, so the slice's nodes have many dependents that a walk of
ancestors must not visit. Noise nodes sit on lines after 25, so LineaPy's same-line
closure never pulls them into the slice. About 10% of calls are assigned to a variable,
and 10 artifacts name calls.

Every id and artifact name starts with the session's base id, so :func:`tagged` makes an
independent copy of a session (for repeats) by prefixing them.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

SLICE_LINES = 25
SLICE_NODES = 50
ARTIFACTS = 10

# Node kinds of the noise, as measured in the LineaPy fixtures.
MIX = {
    "CallNode": 0.384,
    "LookupNode": 0.337,
    "LiteralNode": 0.220,
    "MutateNode": 0.048,
    "ImportNode": 0.007,
    "GlobalNode": 0.004,
}
LOCATED_SHARE = 0.60
NODES_PER_LINE = 4.5  # the fixtures: 24,300 characters of code for 4,439 nodes
T0 = datetime.datetime(2024, 5, 1, 12, 0, 0)

FUNCTIONS = ["read_csv", "merge", "groupby", "fit", "predict", "plot", "append", "sum",
             "astype", "dropna", "apply", "concat", "reshape", "mean", "to_numpy"]
MODULES = ["pandas", "numpy", "sklearn.linear_model", "matplotlib.pyplot", "os", "json",
           "math", "re", "itertools", "collections"]
BUILTINS = ["len", "print", "range", "getattr", "setattr", "list", "dict", "open", "int",
            "str", "sorted", "zip", "enumerate", "l_import", "l_list", "l_dict"]


def build(n_nodes: int, base: str, seed: int = 0) -> dict[str, Any]:
    """A session of exactly ``n_nodes`` nodes (at least 50) as plain dicts.

    Keys: ``session_id``, ``execution`` {id, timestamp}, ``context`` (SessionContext
    fields, ``environment_type`` by name), ``source_code`` {id, code, path}, ``nodes``
    (node fields with ``node_type`` by name; ``source_location`` has ``source_code`` as
    the code's id), ``variables`` [[node_id, name]], ``artifacts`` (Artifact fields),
    ``slice`` {artifact, node_id, nodes}.
    """
    if n_nodes < SLICE_NODES:
        raise ValueError(f"a session needs at least {SLICE_NODES} nodes")
    rng = random.Random(seed)
    sid = base
    code_id = f"{sid}-code"
    slice_lines = ["v1 = 1"] + [f"v{i} = add(v{i - 1}, {i})"
                                for i in range(2, SLICE_LINES + 1)]
    n_noise_lines = max(1, int((n_nodes - SLICE_NODES) / NODES_PER_LINE))
    noise_lines = [f"w{i} = {rng.choice(FUNCTIONS)}(w{max(0, i - 1)})"
                   for i in range(n_noise_lines)]
    lines = slice_lines + noise_lines
    nodes: list[dict[str, Any]] = []

    def at(line: int, col: int, end_col: int) -> dict[str, Any]:
        return {"lineno": line, "col_offset": col, "end_lineno": line,
                "end_col_offset": end_col, "source_code": code_id}

    def node(kind: str, location: dict | None, **fields: Any) -> str:
        node_id = f"{sid}-n{len(nodes)}"
        nodes.append({"id": node_id, "session_id": sid, "node_type": kind,
                      "source_location": location, "control_dependency": None, **fields})
        return node_id

    # -- the slice ------------------------------------------------------------------------
    add = node("LookupNode", None, name="add")
    prev = node("LiteralNode", at(1, 5, 6), value=1)
    slice_nodes = [add, prev]
    for i in range(2, SLICE_LINES + 1):
        text = lines[i - 1]
        lit = node("LiteralNode", at(i, text.rindex(" ") + 1, len(text) - 1), value=i)
        prev = node("CallNode", at(i, text.index("=") + 2, len(text)), function_id=add,
                    positional_args=[{"id": prev, "starred": False},
                                     {"id": lit, "starred": False}],
                    keyword_args=[], global_reads={}, implicit_dependencies=[])
        slice_nodes += [lit, prev]
    sink = prev
    assert len(slice_nodes) == SLICE_NODES

    # -- the noise ------------------------------------------------------------------------
    def location() -> dict | None:
        if rng.random() >= LOCATED_SHARE:
            return None
        index = rng.randrange(n_noise_lines)
        length = len(noise_lines[index])
        col = rng.randint(0, length - 1)
        return at(SLICE_LINES + 1 + index, col, rng.randint(col + 1, length))

    calls: list[str] = [n["id"] for n in nodes if n["node_type"] == "CallNode"]
    callables: list[str] = [add] + calls
    values: list[str] = list(slice_nodes)

    def recent(pool: list[str]) -> str:
        """Mostly one of the last 200 (code uses what it just computed), else any."""
        if rng.random() < 0.8:
            return pool[rng.randrange(max(0, len(pool) - 200), len(pool))]
        return rng.choice(pool)

    variables: list[list[str]] = []
    kinds, weights = zip(*MIX.items())
    while len(nodes) < n_nodes:
        kind = rng.choices(kinds, weights)[0]
        if kind == "ImportNode":
            module = rng.choice(MODULES)
            new = node(kind, location(), name=module, version="1.2.3",
                       package_name=module.split(".")[0],
                       path=f"/usr/lib/python3.10/site-packages/{module}/__init__.py")
            callables.append(new)
        elif kind == "LookupNode":
            new = node(kind, location(), name=rng.choice(BUILTINS))
            callables.append(new)
        elif kind == "LiteralNode":
            value = rng.choice([rng.randint(-10**6, 10**6), rng.random() * 100,
                                f"column_{rng.randint(0, 99)}", True, None])
            new = node(kind, location(), value=value)
        elif kind == "CallNode":
            keyword_args = []
            if rng.random() < 0.01:
                keyword_args = [{"key": "kw0", "value": recent(values), "starred": False}]
            global_reads = {}
            if rng.random() < 0.02:
                global_reads = {f"g{rng.randint(0, 9)}": recent(values)}
            positional = [{"id": recent(values), "starred": rng.random() < 0.02}
                          for _ in range(rng.choice([1, 1, 2, 2, 3]))]
            new = node(kind, location(), function_id=recent(callables),
                       positional_args=positional, keyword_args=keyword_args,
                       global_reads=global_reads, implicit_dependencies=[])
            calls.append(new)
            callables.append(new)
            if rng.random() < 0.10:
                variables.append([new, f"x{len(variables)}"])
        elif kind == "MutateNode":
            new = node(kind, location(), source_id=recent(values), call_id=recent(calls))
        else:
            new = node(kind, location(), name=f"g{rng.randint(0, 9)}",
                       call_id=recent(calls))
        values.append(new)

    execution = {"id": f"{sid}-execution", "timestamp": T0}
    artifact_nodes = [sink] + rng.sample(calls[SLICE_LINES:] or calls, ARTIFACTS - 1)
    artifacts = [{"name": f"{sid}-slice" if k == 0 else f"{sid}-artifact{k}",
                  "node_id": node_id, "execution_id": execution["id"],
                  "date_created": T0 + datetime.timedelta(seconds=k), "version": 0}
                 for k, node_id in enumerate(artifact_nodes)]
    return {
        "session_id": sid,
        "execution": execution,
        "context": {"id": sid, "environment_type": "SCRIPT", "python_version": "3.10.13",
                    "creation_time": T0, "working_directory": "/home/user/project",
                    "session_name": "benchmark", "user_name": None, "hardware_spec": None,
                    "execution_id": execution["id"]},
        "source_code": {"id": code_id, "code": "\n".join(lines) + "\n",
                        "path": f"/home/user/project/{sid}.py"},
        "nodes": nodes,
        "variables": variables,
        "artifacts": artifacts,
        "slice": {"artifact": f"{sid}-slice", "node_id": sink, "nodes": SLICE_NODES},
    }


def tagged(session: dict[str, Any], tag: str) -> dict[str, Any]:
    """An independent copy of ``session`` whose ids and artifact names start with
    ``tag`` (every string that starts with the base id is prefixed)."""
    base = session["session_id"]

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return tag + value if value.startswith(base) else value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(session)


def edge_count(session: dict[str, Any]) -> int:
    """Dependency relationships the session implies (one per parent reference)."""
    total = 0
    for n in session["nodes"]:
        kind = n["node_type"]
        if n.get("control_dependency"):
            total += 1
        if kind == "CallNode":
            total += (1 + len(n["positional_args"]) + len(n["keyword_args"])
                      + len(n["global_reads"]) + len(n["implicit_dependencies"]))
        elif kind == "MutateNode":
            total += 2
        elif kind == "GlobalNode":
            total += 1
    return total
