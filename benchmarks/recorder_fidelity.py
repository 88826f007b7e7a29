"""Fidelity of ``lineagraph run`` against LineaPy 0.2.3 on the shared fixture programs.

For each fixture case, its programs (``script.py``, ``notebook.ipynb`` or
``session_NN.py``/``.ipynb``) are recorded with ``lineagraph run`` in a fresh copy of
its folder (multi-session cases in order, into one store; a notebook runs in a real
Jupyter kernel, which needs ``lineagraph[notebook]``). Then, for every artifact LineaPy saved (``expected.json``):

1. saved:   our recording saved that name and version;
2. value:   our value equals LineaPy's pickle;
3. slice:   our slice (``get(name, version).get_code()``), re-run by a fresh interpreter in a fresh copy of the folder,
            recomputes our value (the slice keeps its ``save`` line; ``save`` there only
            hands the value back, ``get`` reads the store);
4. length:  our slice is no longer than LineaPy's ``program_slice`` where LineaPy's
            slice was right (``slice_check.json``), both normalised by ``ast.unparse``.

The store is the one lineagraph is configured for (``NEO4J_*`` or the managed server,
``LINEAGRAPH_HOME``). Before each case, every version of the names it saves is deleted,
so versions are numbered as in LineaPy: use a store of your own for this.

    pip install '.[fidelity]'
    python benchmarks/recorder_fidelity.py [--cases-dir DIR ...] [CASE ...]
"""

from __future__ import annotations

import argparse
import warnings
import ast
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the shared fixtures, and a mixed script-and-notebook history recorded with LineaPy here
DEFAULT_CASES = [HERE.parent / "tests" / "fixtures" / "lineapy",
                 HERE.parent / "tests" / "fixtures" / "lineapy_recorded"]
PROGRAM = re.compile(r"^(script|notebook|session_\d+)\.(py|ipynb)$")

def _lineapy_stubs() -> None:
    """LineaPy's ExternalState, so its pickles load without LineaPy installed."""
    if "lineapy.instrumentation.annotation_spec" in sys.modules:
        return

    class ExternalState:
        def __setstate__(self, state):  # a pydantic v1 model's state
            state = state if isinstance(state, dict) else {}
            self.__dict__.update(state.get("__dict__", state))

    names = ["lineapy", "lineapy.instrumentation", "lineapy.instrumentation.annotation_spec"]
    for name in names:
        sys.modules.setdefault(name, types.ModuleType(name))
    spec = sys.modules["lineapy.instrumentation.annotation_spec"]
    ExternalState.__module__ = spec.__name__
    spec.ExternalState = ExternalState


def equal(a, b, strict: bool = False) -> bool:
    """Values equal as data. ``strict``: same types, dtypes and numbers exactly.
    Otherwise drift between library versions is allowed (LineaPy's pickles come from
    pandas 2 / scikit-learn 1.7 on Python 3.10): object vs string dtypes, numbers within
    a relative 1e-3, and for scikit-learn estimators only the fitted attributes
    (``name_``) are compared, not constructor parameters whose defaults changed."""
    if type(a).__name__ == "ExternalState" and type(b).__name__ == "ExternalState":
        return getattr(a, "external_state", None) == getattr(b, "external_state", None)
    import math
    import numbers

    import numpy as np
    import pandas as pd
    if isinstance(a, (pd.DataFrame, pd.Series)):
        if type(a) is not type(b):
            return False
        if strict:
            return a.equals(b) and list(getattr(a, "columns", [])) == \
                list(getattr(b, "columns", []))
        check = (pd.testing.assert_frame_equal if isinstance(a, pd.DataFrame)
                 else pd.testing.assert_series_equal)
        try:
            check(a, b, check_dtype=False, check_index_type=False, check_column_type=False, rtol=1e-3) if isinstance(a, pd.DataFrame) else check(a, b, check_dtype=False, check_index_type=False, rtol=1e-3)
            return True
        except AssertionError:
            return False
    if isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape:
            return False
        if strict or a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
            return a.dtype == b.dtype and bool(np.array_equal(
                a, b, equal_nan=a.dtype.kind in "fc"))
        return bool(np.allclose(a, b, rtol=1e-3, atol=1e-9, equal_nan=True))
    if not strict and isinstance(a, numbers.Number) and isinstance(b, numbers.Number) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-3) or (a != a and b != b)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y, strict) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(equal(a[k], b[k], strict) for k in a)
    if hasattr(a, "__dict__") and not isinstance(a, type):
        va, vb = vars(a), vars(b)
        if not strict and type(a).__module__.startswith("sklearn"):
            keys = [k for k in va if k.endswith("_") and not k.startswith("_")]
            return all(k in vb and equal(va[k], vb[k]) for k in keys) and \
                all(k in va for k in vb if k.endswith("_") and not k.startswith("_"))
        return equal(va, vb, strict)
    return a == b


def normalised_lines(code: str) -> int:
    return len([line for line in ast.unparse(ast.parse(code)).splitlines() if line.strip()])


def fresh_copy(case: Path, into: Path) -> Path:
    target = into / case.name
    shutil.copytree(case, target, ignore=shutil.ignore_patterns(
        "db.sqlite", "pickles", "expected.json", "slice_check.json"))
    return target


def record(case: Path, work: Path, env: dict) -> list[str]:
    folder = fresh_copy(case, work)
    sessions = []
    for program in sorted(p.name for p in case.iterdir() if PROGRAM.match(p.name)):
        done = subprocess.run([sys.executable, "-m", "lineagraph", "run", program],
                              cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600)
        found = re.search(r"recorded session (\S+)", done.stderr)
        if found is None:
            raise RuntimeError(f"{case.name}/{program}: not recorded (exit {done.returncode})"
                               f"\n{done.stderr[-2000:]}")
        if done.returncode != 0:
            print(f"  note: {program} exited {done.returncode}: {done.stderr[-500:]}")
        sessions.append(found.group(1))
    return sessions


def rerun(case: Path, code: str, name: str, env: dict) -> tuple[str, object]:
    with tempfile.TemporaryDirectory(prefix="lg-slice-") as tmp:
        folder = fresh_copy(case, Path(tmp))
        (folder / "_slice.py").write_text(code)
        out = Path(tmp) / "value.pkl"
        done = subprocess.run([sys.executable, "-m", "lineagraph.recorder.rerun", "_slice.py", name, str(out)],
                              cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0 or not out.exists():
            return "error", done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        with open(out, "rb") as handle:
            return pickle.load(handle)


def check_case(db, case: Path, work: Path, env: dict) -> list[dict]:
    from lineagraph.errors import NotFoundError

    expected = json.loads((case / "expected.json").read_text())
    checks = json.loads((case / "slice_check.json").read_text())
    lineapy_right = {(a["name"], a["version"]): a["program_slice"]["runs"]
                     and a["program_slice"]["value_matches"] is not False
                     for a in checks["artifacts"]}
    for name in {a["name"] for a in expected["artifacts"]}:
        try:
            db.delete_artifact_by_name(name, "all")
        except NotFoundError:
            pass
    sessions = set(record(case, work, env))
    db.clear_cache()
    rows = []
    for art in expected["artifacts"]:
        row = {"case": case.name, "name": art["name"], "version": art["version"],
               "saved": False, "value": False, "slice": False, "length": None}
        rows.append(row)
        try:
            ours = db.get_artifact_by_name(art["name"], art["version"])
        except NotFoundError:
            row["why"] = "not saved"
            continue
        row["saved"] = db.get_node_by_id(ours.node_id).session_id in sessions
        try:
            value = db.load_node_value(ours.node_id, ours.execution_id)
        except Exception as err:
            row["why"] = f"no value: {type(err).__name__}: {err}"
            continue
        with open(case / "pickles" / art["pickle"], "rb") as handle:
            theirs = pickle.load(handle)
        row["value_strict"] = equal(value, theirs, strict=True)
        row["value"] = row["value_strict"] or equal(value, theirs)
        from lineagraph.recorder.api import LineaArtifact
        artifact = LineaArtifact(db, ours)  # what lineagraph.get(name, version) gives
        code = artifact.get_code(keep_lineapy_save=True)
        status, again = rerun(case, code, art["name"], env)
        row["slice"] = status == "ok" and equal(again, value)
        if not row["slice"]:
            row["why"] = f"slice re-run: {status} {again if status != 'ok' else '(other value)'}"
        plain = artifact.get_code()
        row["lines"] = normalised_lines(plain)
        row["lineapy_lines"] = normalised_lines(art["program_slice"])
        if lineapy_right.get((art["name"], art["version"]), False):
            row["length"] = row["lines"] <= row["lineapy_lines"]
        row["ok"] = row["saved"] and row["value"] and row["slice"] and row["length"] is not False
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="case names (default: every case)")
    parser.add_argument("--cases-dir", type=Path, action="append",
                        help="a folder of cases (repeatable; default: "
                             "tests/fixtures/lineapy and tests/fixtures/lineapy_recorded)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    _lineapy_stubs()
    warnings.simplefilter("ignore")  # version warnings of LineaPy's pickles
    from lineagraph.recorder.sink import open_store

    cases = [c for folder in args.cases_dir or DEFAULT_CASES for c in sorted(folder.iterdir())
             if c.is_dir() and any(PROGRAM.match(p.name) for p in c.iterdir())]
    if args.cases:
        cases = [c for c in cases if c.name in args.cases]
    env = dict(os.environ)
    db = open_store()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lg-fidelity-") as tmp:
        for case in cases:
            try:
                case_rows = check_case(db, case, Path(tmp), env)
            except Exception as err:
                print(f"{case.name}: FAILED to record: {err}")
                expected = json.loads((case / "expected.json").read_text())
                case_rows = [{"case": case.name, "name": a["name"], "version": a["version"],
                              "ok": False, "why": "case not recorded"}
                             for a in expected["artifacts"]]
            rows += case_rows
            good = sum(bool(r.get("ok")) for r in case_rows)
            print(f"{case.name}: {good}/{len(case_rows)} artifacts right")
            for r in case_rows:
                if not r.get("ok"):
                    print(f"    {r['name']} v{r['version']}: saved={r.get('saved')} "
                          f"value={r.get('value')} slice={r.get('slice')} "
                          f"length={r.get('length')} ({r.get('lines')} vs LineaPy "
                          f"{r.get('lineapy_lines')} lines) {r.get('why', '')}")
    db.close()
    good = sum(bool(r.get("ok")) for r in rows)
    shorter = sum(1 for r in rows if r.get("lines") is not None
                  and r["lines"] < r["lineapy_lines"])
    strict = sum(bool(r.get("value_strict")) for r in rows)
    print(f"values equal to LineaPy's strictly (same dtypes and numbers): {strict}/{len(rows)}")
    print(f"total: {good}/{len(rows)} artifacts right ({100.0 * good / max(len(rows), 1):.1f}%),"
          f" {len(cases)} cases; {shorter} slices shorter than LineaPy's")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return 0 if good == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
