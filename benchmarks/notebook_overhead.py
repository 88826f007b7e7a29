"""Per-cell overhead of recording a notebook (``%load_ext lineagraph``) against plain
execution, in real Jupyter kernels (ipykernel, this interpreter).

Two kernels, started alike (``lineagraph.recorder.notebook_run.kernel_manager``): one
plain, one that loaded the extension first. The same cells are sent to both, one by one
as a frontend sends them, interleaved cell by cell so that the machine's load hits both
alike; each cell's time is its request's round trip (``execute_interactive``), repeated
``--repeat`` times (every repeat runs all cells again: later runs are cells run again,
recorded as such). The cells: the shared fixture notebook ``nb_basic_cells`` (less its
``%load_ext lineapy``), a pandas cell and a cell with a 200-iteration loop of statements.
The store: the one lineagraph is configured for (``NEO4J_*`` or the managed server).

    python benchmarks/notebook_overhead.py [--repeat 5] [--write-md BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recorder_overhead import write_section  # noqa: E402  (one way to write a section)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = ROOT / "tests" / "fixtures" / "lineapy" / "nb_basic_cells" / "notebook.ipynb"
BEGIN, END = "<!-- notebook_overhead: begin -->", "<!-- notebook_overhead: end -->"
EXTRA_CELLS = [
    ("pandas frame", "import pandas as pd\n"
     "frame = pd.DataFrame({'a': range(1000), 'b': [i % 7 for i in range(1000)]})\n"
     "summary = frame.groupby('b').a.sum()\nsummary.head()"),
    ("200 statements", "\n".join(f"v{i} = [{i}, {i} + 1]\nv{i}.append(len(v{i}))"
                                 for i in range(100))),
]


def cells() -> list[tuple[str, str]]:
    import nbformat

    nb = nbformat.read(str(FIXTURE), as_version=4)
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not cell.source.startswith("%load_ext"):
            out.append((f"fixture cell {index + 1}", cell.source))
    return out + EXTRA_CELLS


class Kernel:
    def __init__(self, folder: Path, record: bool):
        from lineagraph.recorder.notebook_run import kernel_manager

        folder.mkdir()
        self.km = kernel_manager(folder)
        self.km.start_kernel(cwd=str(folder), stderr=open(folder / "kernel.log", "wb"))
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        if record:  # `import lineapy` gives lineagraph's, as under `lineagraph run`
            self.run("import lineagraph.recorder.api as a, sys\n"
                     "sys.modules['lineapy'] = a.lineapy_shim()", silent=True)
            self.run("%load_ext lineagraph")
        else:  # the plain side: `lineapy.save` hands the value back
            self.run("import sys, types\nm = types.ModuleType('lineapy')\n"
                     "m.save = lambda value, name: value\nsys.modules['lineapy'] = m",
                     silent=True)

    def run(self, code: str, silent: bool = False) -> float:
        started = time.perf_counter()
        reply = self.client.execute_interactive(code, silent=silent, timeout=300,
                                                output_hook=lambda msg: None)
        seconds = time.perf_counter() - started
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed: {reply['content'].get('evalue')}\n{code}")
        return seconds

    def close(self) -> None:
        self.client.stop_channels()
        self.km.shutdown_kernel(now=True)


def measure(repeat: int) -> dict:
    plan = cells()
    times = {name: {"plain": [], "ours": []} for name, _ in plan}
    with tempfile.TemporaryDirectory(prefix="lineagraph-nb-bench-") as folder:
        plain = ours = None
        try:
            plain = Kernel(Path(folder) / "plain", record=False)
            ours = Kernel(Path(folder) / "ours", record=True)
            for _ in range(repeat):
                for name, code in plan:
                    times[name]["plain"].append(plain.run(code))
                    times[name]["ours"].append(ours.run(code))
        finally:
            for kernel in (plain, ours):
                if kernel is not None:
                    kernel.close()
    return times


def fmt_ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def table(times: dict) -> tuple[list[str], list[list[str]]]:
    header = ["cell", "plain", "recorded", "overhead", "recorded / plain"]
    rows = []
    for name, t in times.items():
        plain, ours = statistics.median(t["plain"]), statistics.median(t["ours"])
        rows.append([name, fmt_ms(plain), fmt_ms(ours), fmt_ms(ours - plain),
                     f"{ours / plain:.2f}x"])
    all_plain = statistics.median(x for t in times.values() for x in t["plain"])
    all_ours = statistics.median(x for t in times.values() for x in t["ours"])
    rows.append(["median over all cells", fmt_ms(all_plain), fmt_ms(all_ours),
                 fmt_ms(all_ours - all_plain), f"{all_ours / all_plain:.2f}x"])
    return header, rows


def markdown(times: dict, facts: dict, command: str, repeat: int) -> str:
    header, rows = table(times)
    lines = [BEGIN, "## Notebook recording overhead, per cell", "",
             "Generated by `benchmarks/notebook_overhead.py` (see its docstring); rerun:", "",
             "```", command, "```", "", "| fact | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    lines += ["", f"Medians of {repeat} round trips per cell (a frontend's request to the "
              "kernel and its reply), plain kernel against a kernel recording with "
              "`%load_ext lineagraph`. After each cell the recording hands what it recorded "
              "to its writer thread and replies at once; a `save` waits for its commit.", "",
              "| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + [END]) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write-md", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    command = "benchmarks/notebook_overhead.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    times = measure(args.repeat)
    load_end = os.getloadavg()
    facts = {"run started": started.strftime("%Y-%m-%d %H:%M UTC"),
             "CPU cores": str(os.cpu_count()), "Python": platform.python_version(),
             "load average (1, 5, 15 min)": "start " + " ".join(f"{x:.2f}" for x in load_start)
             + "; end " + " ".join(f"{x:.2f}" for x in load_end)}
    header, rows = table(times)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    if args.write_md:
        write_section(args.write_md, markdown(times, facts, command, args.repeat),
                      BEGIN, END)
        print(f"wrote the notebook overhead section of {args.write_md}")
    print(json.dumps({"load": facts["load average (1, 5, 15 min)"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
