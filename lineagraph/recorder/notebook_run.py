"""``lineagraph run notebook.ipynb``: execute a notebook top to bottom in a real Jupyter
kernel (nbclient, ipykernel) with the recording on.

The kernel runs this interpreter (a kernel spec of our own, in a temporary folder, so a
``python3`` kernel installed elsewhere is not picked up), in the notebook's folder, with
the store settings in its environment. Before the first cell, a silent request (no
execution count, nothing in the notebook) makes ``lineapy`` importable as lineagraph's
stand-in and, unless the notebook's first code cell loads ``lineagraph`` or ``lineapy``
itself, loads the extension; so execution counts are the notebook's own. The notebook
file is never written; ``output`` saves the executed copy.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import LineagraphError

# under `lineagraph run`, `import lineapy` (and `%load_ext lineapy`) is lineagraph's
_SETUP = """\
import sys as _lg_sys
import lineagraph.recorder.api as _lg_api
_lg_sys.modules["lineapy"] = _lg_api.lineapy_shim()
del _lg_sys, _lg_api
"""
_SUMMARY = "__import__('lineagraph.recorder.ipython', fromlist=['summary']).summary()"


class NotebookError(LineagraphError):
    """A cell of the notebook failed (exit code 1, as a failing script)."""

    exit_code = 1


@dataclass
class NotebookResult:
    session_id: Optional[str]
    nodes: int
    artifacts: int
    cells: int
    seconds: float
    # the 1-based number of the cell a Ctrl-C (SIGINT) stopped, the cells before it kept
    interrupted: Optional[int] = None


def _loads_itself(nb) -> bool:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            first = cell.source.strip().splitlines()[0].split()
            return first[:1] == ["%load_ext"] and first[1:2] in (["lineagraph"], ["lineapy"])
    return False


def kernel_manager(folder: Path):
    """A KernelManager for an ipykernel of this interpreter, its kernel spec and its
    IPC sockets in ``folder`` (a kernel spec of our own, so that a ``python3`` kernel
    installed elsewhere is not picked up; IPC, so that no TCP port is opened)."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec = folder / "lineagraph-python"
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (lineagraph run)", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name="lineagraph-python", transport="ipc",
                         ip=str(folder / "kernel"), kernel_spec_manager=specs)


def run_notebook(path: Path, output: Optional[Path] = None, timeout: int = 600,
                 env: Optional[dict] = None) -> NotebookResult:
    """Execute ``path`` with the recording on; raise NotebookError naming the failing
    cell (1-based, among all cells) with its error."""
    import time

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, DeadKernelError
    except ImportError as err:
        raise LineagraphError(
            f"lineagraph run NOTEBOOK needs nbclient and ipykernel ({err.name} is missing):"
            " pip install 'lineagraph[notebook]'") from None
    started = time.perf_counter()
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, json.JSONDecodeError) as err:
        raise LineagraphError(f"cannot read notebook {path}: {err}") from None
    with tempfile.TemporaryDirectory(prefix="lineagraph-kernel-") as folder:
        km = kernel_manager(Path(folder))
        log = open(Path(folder) / "kernel.log", "w+b")
        client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False,
                                resources={"metadata": {"path": str(path.parent)}})
        cells = index = 0
        summary: dict = {}
        interrupted = None
        ctrl_c = CtrlC()  # the Ctrl-Cs pressed while the cells ran
        # the kernel manager is ours, so nbclient leaves its kernel running: shut down
        # here, once the recording it holds is committed (_summary waits for that)
        with log, _shut_down(km, ctrl_c), client.setup_kernel(
                env={**os.environ, **(env or {})}, stderr=log):
            _silent(client, _SETUP)
            if not _loads_itself(nb):
                _silent(client, "get_ipython().run_line_magic('load_ext', 'lineagraph')")
            try:
                # Ctrl-C interrupts the cell running, and the run stops at the cell it
                # reached; the setup above and the commit below are not interrupted so
                with _ctrl_c_interrupts_the_cell(km, ctrl_c):
                    for index, cell in enumerate(nb.cells):
                        if cell.cell_type != "code":
                            continue
                        if ctrl_c.pressed:  # between two cells
                            break
                        client.execute_cell(cell, index)
                        cells += 1
                if ctrl_c.pressed:
                    interrupted = index + 1
            except DeadKernelError:
                log.seek(0)
                tail = log.read().decode("utf-8", "replace").strip().splitlines()[-10:]
                raise NotebookError(
                    f"the kernel died while running cell {index + 1} of {path.name}"
                    + ("; its last words:\n" + "\n".join(tail) if tail else "")) from None
            except CellExecutionError as err:
                stopped = _cell_error(nb.cells[index], name_only=True) == "KeyboardInterrupt"
                if ctrl_c.pressed and stopped:
                    interrupted = index + 1  # kept up to it, as a script stopped by Ctrl-C
                else:
                    summary = _summary(client)
                    error = _cell_error(nb.cells[index])
                    raise NotebookError(
                        f"cell {index + 1} of {path.name} failed: {error or err}"
                        + (f"\n(recorded as session {summary['session_id']} up to that cell)"
                           if summary.get("session_id") else "")) from None
            finally:
                if output is not None:
                    nbformat.write(nb, str(output))
            summary = _summary(client)
            if summary.get("error"):
                raise LineagraphError(
                    f"the recording of session {summary['session_id']} is incomplete: "
                    f"{summary['error']}")
    return NotebookResult(summary.get("session_id"), summary.get("nodes", 0),
                          summary.get("artifacts", 0), cells, time.perf_counter() - started,
                          interrupted)


class CtrlC:
    """The Ctrl-Cs (SIGINTs) received while the cells ran: the first interrupts the
    running cell, the second kills the kernel (_ctrl_c_interrupts_the_cell)."""

    def __init__(self) -> None:
        self.count = 0

    @property
    def pressed(self) -> bool:
        return self.count > 0

    @property
    def kernel_killed(self) -> bool:
        return self.count >= 2


@contextlib.contextmanager
def _shut_down(km, ctrl_c: CtrlC):
    try:
        yield
    finally:
        # after a second Ctrl-C the kernel is killed already, and nbclient's unfinished
        # wait for the cell would hold the event loop a shutdown runs on
        if not ctrl_c.kernel_killed:
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=False)
            except Exception:  # already gone
                pass


def _silent(client, code: str, expressions: Optional[dict] = None) -> dict:
    reply = client.kc.execute_interactive(code, silent=True, store_history=False,
                                          user_expressions=expressions or {},
                                          timeout=client.timeout, output_hook=lambda m: None)
    content = reply["content"]
    if content.get("status") != "ok":
        raise LineagraphError(f"the kernel refused lineagraph's setup: "
                              f"{content.get('ename')}: {content.get('evalue')}")
    return content


def _summary(client) -> dict:
    """The recording's session and counts, after committing what the kernel holds."""
    try:
        content = _silent(client, "", {"s": _SUMMARY})
        value = content["user_expressions"]["s"]
        if value.get("status") != "ok":
            return {}
        return json.loads(ast.literal_eval(value["data"]["text/plain"]))  # a str's repr
    except Exception:  # a dead kernel: nothing more to tell
        return {}


def _cell_error(cell, name_only: bool = False) -> Optional[str]:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename") if name_only else f"{out.get('ename')}: {out.get('evalue')}"
    return None


@contextlib.contextmanager
def _ctrl_c_interrupts_the_cell(km, received: CtrlC):
    """While in it, a first SIGINT interrupts the kernel's running cell, as Ctrl-C in
    Jupyter does; a second one, for a cell that ignored the first, kills the kernel
    and stops lineagraph (KeyboardInterrupt). Each SIGINT is counted in ``received``.

    The kernel runs in a session of its own (jupyter_client), so a terminal's Ctrl-C
    reaches this process only: Python's KeyboardInterrupt would end the run without
    the cell's end, and without the commit of what the kernel recorded. The kernel is
    signalled as jupyter_client's local provisioner does it, from the handler itself:
    ``KernelManager.interrupt_kernel`` would go through the locks and event loop
    nbclient is using when the signal arrives."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return

    def on_sigint(signum, frame) -> None:
        received.count += 1
        if not received.kernel_killed:
            _signal_kernel(km, signal.SIGINT)
            return
        _signal_kernel(km, signal.SIGKILL)  # what it committed so far stays stored
        signal.signal(signal.SIGINT, previous)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_sigint)
    if previous is None:  # a handler not set from Python: the default
        previous = signal.SIG_DFL
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is on_sigint:
            signal.signal(signal.SIGINT, previous)


def _signal_kernel(km, signum: int) -> None:
    """``signum`` to the kernel's process group, else to the kernel (a kernel gone
    already: nothing to do)."""
    provisioner = getattr(km, "provisioner", None)
    pgid, pid = getattr(provisioner, "pgid", None), getattr(provisioner, "pid", None)
    with contextlib.suppress(OSError):
        if pgid and hasattr(os, "killpg"):
            os.killpg(pgid, signum)
        elif pid:
            os.kill(pid, signum)
