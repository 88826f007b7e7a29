"""Overhead of recording: ``lineagraph run`` against plain ``python`` and LineaPy 0.2.3.

Programs (each run in a fresh copy of its folder, so files it writes start absent):

- ``synthetic_long_2000``: ``tests/fixtures/lineapy/synthetic_long_600/gen_script.py``
  with 2,000 statements (LineaPy records 10,163 nodes for it);
- ``synthetic_long_3200``: the same generator sized so that *our* recording has about
  10,000 nodes (we record fewer nodes per statement than LineaPy);
- ``mixed_kitchen_sink`` (pandas, NumPy, scikit-learn, 93 lines),
  ``side_effect_file_system`` (pandas and files) and ``sklearn_pipeline_iris``.

Three sides, interleaved per repeat so that the machine's load hits them alike:

1. plain: ``python script.py`` with a stand-in ``lineapy`` module whose ``save`` does
   nothing (the interpreter of this file, the one ``lineagraph`` is installed in);
2. ours: ``python -m lineagraph run script.py``: wall time of the whole process (start-up,
   connection check, rewriting, running, writes, every ``save`` committed), and the
   recorder's own time from its summary line;
3. LineaPy: ``benchmarks/.lineapy-venv/bin/lineapy python script.py`` (Python 3.10,
   ``make bench-venv``, plus ``scikit-learn`` and ``lxml_html_clean`` in that venv),
   its SQLite database in a temporary ``LINEAPY_HOME_DIR``.

Goals (issue 15): a 10,000-node script recorded in under 3 s (the wall time of
``lineagraph run``), and at most 3x plain Python + 1 s of start-up on the pandas and
scikit-learn programs. Store: the one ``lineagraph`` is configured for (``NEO4J_*`` or
the managed server of ``LINEAGRAPH_HOME``).

    python benchmarks/recorder_overhead.py [--repeat 3] [--skip-lineapy] [--write-md BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "fixtures" / "lineapy"
LINEAPY = HERE / ".lineapy-venv" / "bin" / "lineapy"
PROGRAMS = ["synthetic_long_2000", "synthetic_long_3200", "mixed_kitchen_sink",
            "side_effect_file_system", "sklearn_pipeline_iris"]
LIBRARY_PROGRAMS = {"mixed_kitchen_sink", "side_effect_file_system", "sklearn_pipeline_iris"}
BEGIN, END = "<!-- recorder_overhead: begin -->", "<!-- recorder_overhead: end -->"
SUMMARY = re.compile(r"recorded session \S+ \((\d+) nodes, (\d+) artifacts saved\) "
                     r"in ([\d.]+) s")
_STANDIN = """\
import sys, types
m = types.ModuleType("lineapy")
m.save = lambda value, name: value
m.file_system, m.db = object(), object()
sys.modules["lineapy"] = m
"""


def prepare(name: str, into: Path) -> Path:
    """A folder holding ``script.py`` of program ``name``."""
    folder = into / name
    found = re.fullmatch(r"synthetic_long_(\d+)", name)
    if found:
        folder.mkdir()
        gen = (FIXTURES / "synthetic_long_600" / "gen_script.py").read_text()
        n = found.group(1)
        gen = re.sub(r"^N_STATEMENTS = \d+", f"N_STATEMENTS = {n}", gen, flags=re.M)
        gen = re.sub(r"^SEED = \d+", f"SEED = {n}", gen, flags=re.M)
        subprocess.run([sys.executable, "-c", gen], cwd=folder, check=True)
    else:
        shutil.copytree(FIXTURES / name, folder, ignore=shutil.ignore_patterns(
            "db.sqlite", "pickles", "expected.json", "slice_check.json", "gen_script.py"))
    (folder / "_standin").mkdir()
    (folder / "_standin" / "sitecustomize.py").write_text(_STANDIN)
    return folder


def timed(cmd: list[str], folder: Path, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    with tempfile.TemporaryDirectory(prefix="lg-overhead-") as tmp:
        work = Path(tmp) / "w"
        shutil.copytree(folder, work)
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                              timeout=1800)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {done.returncode}:\n"
                           f"{done.stderr[-1500:]}")
    return seconds, done


def run_plain(folder: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(folder / "_standin"))
    return timed([sys.executable, "script.py"], folder, env)[0]


def run_ours(folder: Path) -> tuple[float, float, int]:
    seconds, done = timed([sys.executable, "-m", "lineagraph", "run", "script.py"],
                          folder, dict(os.environ))
    found = SUMMARY.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no summary line from lineagraph run:\n{done.stderr[-800:]}")
    return seconds, float(found.group(3)), int(found.group(1))


def run_lineapy(folder: Path) -> tuple[float, Optional[int]]:
    with tempfile.TemporaryDirectory(prefix="lg-lineapy-home-") as home:
        env = dict(os.environ, LINEAPY_HOME_DIR=home, LINEAPY_DO_NOT_TRACK="true",
                   PYTHONPATH="")
        env.pop("PYTHONHOME", None)
        seconds, _ = timed([str(LINEAPY), "python", "script.py"], folder, env)
        return seconds, _lineapy_nodes(Path(home))


def _lineapy_nodes(home: Path) -> Optional[int]:
    import sqlite3

    db = home / "db.sqlite"
    if not db.exists():
        return None
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM node").fetchone()[0]


def med(values: list) -> Optional[float]:
    return statistics.median(values) if values else None


def fmt_s(x: Optional[float]) -> str:
    return "—" if x is None else f"{x * 1000:.0f} ms" if abs(x) < 1 else f"{x:.2f} s"


def fmt_x(x: Optional[float]) -> str:
    return "—" if x is None else f"{x:.2f}x"


def measure(args: argparse.Namespace) -> dict:
    with_lineapy = not args.skip_lineapy and LINEAPY.exists()
    if not with_lineapy and not args.skip_lineapy:
        print(f"{LINEAPY} is missing (make bench-venv): LineaPy's side is skipped",
              file=sys.stderr)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="lg-overhead-src-") as tmp:
        for name in args.programs:
            folder = prepare(name, Path(tmp))
            r = results[name] = {"plain": [], "ours": [], "ours_recorder": [],
                                 "lineapy": [], "nodes": None, "lineapy_nodes": None}
            # one untimed run first: on a server just started, the first writes measure
            # its Java JIT warming up (26.8, 13.7, then 7.9 s for one script), and the
            # first runs of a program the page cache filling, not the recorder
            run_ours(folder)
            for i in range(args.repeat):
                r["plain"].append(run_plain(folder))
                wall, own, nodes = run_ours(folder)
                r["ours"].append(wall)
                r["ours_recorder"].append(own)
                r["nodes"] = nodes
                if with_lineapy and (i == 0 or name in LIBRARY_PROGRAMS
                                     or args.lineapy_repeat_long):
                    seconds, count = run_lineapy(folder)
                    r["lineapy"].append(seconds)
                    r["lineapy_nodes"] = count
                print(f"  {name} #{i + 1}: plain {fmt_s(r['plain'][-1])}, ours "
                      f"{fmt_s(wall)} (recorder {fmt_s(own)}, {nodes} nodes), LineaPy "
                      f"{fmt_s(r['lineapy'][-1]) if r['lineapy'] else '—'}; load "
                      f"{os.getloadavg()[0]:.2f}", file=sys.stderr)
    return results


def table(results: dict) -> tuple[list[str], list[list[str]]]:
    header = ["program", "our nodes", "LineaPy nodes", "plain python", "lineagraph run",
              "of which recorder", "ours / plain", "margin to 3x plain + 1 s", "LineaPy",
              "LineaPy / ours"]
    rows = []
    for name, r in results.items():
        plain, ours, lp = med(r["plain"]), med(r["ours"]), med(r["lineapy"])
        rows.append([
            name, f"{r['nodes']:,}", f"{r['lineapy_nodes']:,}" if r["lineapy_nodes"] else "—",
            fmt_s(plain), f"{fmt_s(ours)} (n={len(r['ours'])})",
            fmt_s(med(r["ours_recorder"])), fmt_x(ours / plain),
            fmt_s(3 * plain + 1 - ours),
            f"{fmt_s(lp)} (n={len(r['lineapy'])})" if lp else "—",
            fmt_x(lp / ours) if lp else "—"])
    return header, rows


def goals(results: dict) -> list[tuple[str, str, str]]:
    out = []
    big = [(n, r) for n, r in results.items() if n.startswith("synthetic") and r["nodes"]]
    if big:
        name, r = max(big, key=lambda item: item[1]["nodes"])
        wall = med(r["ours"])
        out.append(("a 10,000-node script recorded in under 3 s",
                    "met" if wall < 3 else "not met",
                    f"{name}: {r['nodes']:,} nodes, `lineagraph run` {fmt_s(wall)} "
                    f"(recorder {fmt_s(med(r['ours_recorder']))})"))
    lib = [(n, r) for n, r in results.items() if n in LIBRARY_PROGRAMS]
    if lib:
        parts, ok = [], True
        for name, r in lib:
            plain, ours = med(r["plain"]), med(r["ours"])
            ok &= ours <= 3 * plain + 1
            parts.append(f"{name}: {fmt_s(ours)} vs 3 × {fmt_s(plain)} + 1 s = "
                         f"{fmt_s(3 * plain + 1)}")
        out.append(("≤ 3x plain Python + 1 s on the pandas and scikit-learn programs",
                    "met" if ok else "not met", "; ".join(parts)))
    return out


def markdown(results: dict, facts: dict, command: str) -> str:
    header, rows = table(results)
    lines = [BEGIN, "## Recorder overhead", "",
             "Generated by `benchmarks/recorder_overhead.py` (see its docstring); rerun:", "",
             "```", command, "```", "", "| fact | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    lines += ["", "| target | result | numbers |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in goals(results)]
    lines += ["", "Medians of wall times of whole processes (start-up included). `lineagraph "
              "run` commits the session to Neo4j at the end and once per `save` (each save "
              "is durable when it returns); LineaPy writes SQLite. `of which recorder`: the "
              "time in `lineagraph run`'s summary line: from the start of the script's "
              "preparation (read, rewrite, compile: in a child process, while the "
              "parent imports the store's modules) through running and writing, so "
              "without interpreter start-up and the command line's own imports. "
              "Each program is recorded once untimed before its timed runs (the "
              "server's JIT and page cache warm up). LineaPy's long synthetic scripts "
              "run once.", "",
              "| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + [END]) + "\n"


def write_section(path: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace a benchmark's section of ``path`` (between its markers ``begin`` and
    ``end``, this one's by default), or append it."""
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--programs", type=lambda s: s.split(","), default=PROGRAMS,
                        help="comma-separated, default: " + ",".join(PROGRAMS))
    parser.add_argument("--skip-lineapy", action="store_true")
    parser.add_argument("--lineapy-repeat-long", action="store_true",
                        help="repeat LineaPy on the synthetic scripts too (about 1 min each)")
    parser.add_argument("--write-md", type=Path, metavar="PATH",
                        help="write (or replace) the section in this file, e.g. BENCHMARKS.md")
    args = parser.parse_args(argv)
    command = "benchmarks/recorder_overhead.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    results = measure(args)
    load_end = os.getloadavg()
    facts = {
        "run started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "CPU cores": str(os.cpu_count()),
        "Python (lineagraph)": platform.python_version(),
        "load average (1, 5, 15 min)": "start " + " ".join(f"{x:.2f}" for x in load_start)
        + "; end " + " ".join(f"{x:.2f}" for x in load_end),
    }
    header, rows = table(results)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    for target, result, numbers in goals(results):
        print(f"{target}: {result.upper()} ({numbers})")
    print(f"load average: {facts['load average (1, 5, 15 min)']}")
    if args.write_md:
        write_section(args.write_md, markdown(results, facts, command))
        print(f"wrote the recorder overhead section of {args.write_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
