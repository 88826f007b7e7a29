"""Recording an IPython or Jupyter session: ``%load_ext lineagraph`` starts it,
``%unload_ext lineagraph`` stops it (at the kernel's end, what was recorded is committed
and a failure said on stderr).

From the cell after ``%load_ext`` on, each cell the shell runs becomes a SourceCode of
one JUPYTER session (the cell's text, with its execution count), rewritten before it
runs exactly as ``lineagraph run`` rewrites a script (its sites numbered after those of
the cells before it), so that its nodes are located in their cell. Cells run again or
out of order are recorded as they ran. IPython has already turned magics and shell
escapes into calls of ``get_ipython()`` when the cell reaches the recorder: such a
statement runs as one opaque node reading and binding the names its text mentions
(:func:`~lineagraph.recorder.analysis.magic_names`), and the slice keeps the cell's
line as written (``%time ...``). Code a magic runs itself (``%time``'s statement) is
not rewritten again.

The shell keeps displaying a cell's last value (the rewritten cell still ends with
the same expression statement) and honours a trailing ``;``. A failing cell's
traceback shows the cell's lines, not the recorder's (a custom exception handler takes
the recorder's frames out before IPython shows it). After each cell, what it recorded
is handed to the sink's writer thread; ``save`` commits and waits, as in a script.
"""

from __future__ import annotations

import ast
import atexit
import builtins
import datetime
import json
import os
import platform
import sys
from typing import Any, Optional

from ..errors import LineagraphError
from ..models import (Execution, JupyterCell, SessionContext, SessionType, SourceCode,
                      get_new_id)
from . import api, files
from .common import strip_recorder_frames
from .rewrite import HOOKS, rewrite
from .sink import Sink, open_store
from .tracer import Recorder

_sessions: dict[int, "CellRecorder"] = {}  # id(shell) -> its recording
_faults: dict[int, dict] = {}  # id(shell) -> summary of a recording the recorder stopped


def load(shell) -> None:
    """``%load_ext lineagraph``: start recording this shell (once; loading again while
    recording says so and changes nothing)."""
    if id(shell) in _sessions:
        print(f"lineagraph: this session is already being recorded "
              f"(session {_sessions[id(shell)].session_id})", file=sys.stderr)
        return
    recording = CellRecorder(shell, open_store())
    recording.start()
    _faults.pop(id(shell), None)
    _sessions[id(shell)] = recording
    print(f"lineagraph: recording this session as {recording.session_id}", file=sys.stderr)


def unload(shell) -> None:
    """``%unload_ext lineagraph``: stop recording; everything recorded is committed."""
    recording = _sessions.pop(id(shell), None)
    if recording is not None:
        recording.stop()


def summary() -> str:
    """What ``lineagraph run notebook.ipynb`` asks the kernel at the end, as JSON: the
    session recorded and its counts, once everything recorded is committed (with
    ``error`` when the recording stopped short)."""
    if not _sessions:
        return json.dumps(next(iter(_faults.values()), {}))
    recording = next(iter(_sessions.values()))
    said = {"session_id": recording.session_id, "nodes": recording.sink.nodes,
            "artifacts": recording.sink.artifacts}
    try:
        recording.sink.flush()
    except LineagraphError as err:  # a part failed: what came before it is stored
        said["error"] = str(err)
    return json.dumps(said)


class _Cells(ast.NodeTransformer):
    """The shell's AST transformer: hands each cell's tree to the recording."""

    def __init__(self, recording: "CellRecorder"):
        super().__init__()
        self.recording = recording

    def visit(self, node: ast.AST) -> Any:
        return self.recording.transform(node)


class CellRecorder:
    def __init__(self, shell, db):
        self.shell = shell
        self.db = db
        now = datetime.datetime.now()
        self.session_id, execution_id = get_new_id(), get_new_id()
        self.sink = Sink(db)
        self.sink.begin(
            SessionContext(id=self.session_id, environment_type=SessionType.JUPYTER,
                           python_version=platform.python_version(), creation_time=now,
                           working_directory=os.getcwd(), execution_id=execution_id),
            Execution(id=execution_id, timestamp=now))
        self.recorder = Recorder(self.sink, self.session_id, None, shell.user_ns, [],
                                 {"file_system": api.file_system, "db": api.db})
        self.recorder.save_functions.add(id(api.save))
        self.recorder.get_functions.add(id(api.get))
        self.transformer = _Cells(self)
        self.cell: Optional[tuple[str, str]] = None  # the cell about to run: raw, transformed
        self.saved_lineapy = None
        self.lineapy = None  # the shim this recording put in sys.modules
        self.old_custom_exc: Optional[tuple] = None
        self.in_cell = False
        self.stopping = False

    # -- start and stop ------------------------------------------------------------------
    def start(self) -> None:
        shell = self.shell
        files.install([str(self.db.blobs.root)])
        setattr(builtins, HOOKS, self.recorder)
        api.activate(recorder=self.recorder, db=self.db)
        self.saved_lineapy = sys.modules.get("lineapy")
        sys.modules["lineapy"] = self.lineapy = api.lineapy_shim()
        shell.events.register("pre_run_cell", self.pre_run_cell)
        shell.events.register("post_run_cell", self.post_run_cell)
        shell.ast_transformers.append(self.transformer)
        self.old_custom_exc = (shell.custom_exceptions, getattr(shell, "CustomTB", None))
        shell.set_custom_exc((Exception,), _show_user_error)
        atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        if _sessions.get(id(self.shell)) is not self:
            return  # unloaded: already committed
        try:
            self.sink.end()
        except LineagraphError as err:
            print(f"lineagraph: the recording of session {self.session_id} is incomplete, "
                  f"the store failed: {err}", file=sys.stderr)

    def stop(self) -> None:
        """Stop recording. Inside a cell (``%unload_ext``), the rest of that cell still
        reports to the recorder, so the teardown waits for the cell's end."""
        if self.transformer in self.shell.ast_transformers:
            self.shell.ast_transformers.remove(self.transformer)
        if self.in_cell:
            self.stopping = True
        else:
            self._teardown()

    def _fault(self, what: str) -> None:
        """Stop at once (the cell runs as without the recorder: its ``save`` says it is
        not recording rather than save nothing); the rest of the teardown waits for the
        cell's end, as IPython is going through its transformers now."""
        print(f"lineagraph: {what}; it runs unrecorded and recording stops here (what "
              "was recorded before is kept)", file=sys.stderr)
        _sessions.pop(id(self.shell), None)
        _faults[id(self.shell)] = {"session_id": self.session_id, "nodes": self.sink.nodes,
                                   "artifacts": self.sink.artifacts, "error": what}
        self._deactivate()
        self.stopping = True

    def _deactivate(self) -> None:
        """Undo what makes the program's code report to this recording, only what is
        still its own (``%reload_ext`` loads the next recording first)."""
        if api.active_recorder() is self.recorder:
            api.activate()
        if getattr(builtins, HOOKS, None) is self.recorder:
            delattr(builtins, HOOKS)
        if sys.modules.get("lineapy") is self.lineapy:
            if self.saved_lineapy is not None:
                sys.modules["lineapy"] = self.saved_lineapy
            else:
                sys.modules.pop("lineapy", None)

    def _teardown(self) -> None:
        shell = self.shell
        if self.transformer in shell.ast_transformers:
            shell.ast_transformers.remove(self.transformer)
        for event, callback in (("pre_run_cell", self.pre_run_cell),
                                ("post_run_cell", self.post_run_cell)):
            try:
                shell.events.unregister(event, callback)
            except ValueError:
                pass
        if not any(r is not self for r in _sessions.values()):
            exceptions, handler = self.old_custom_exc or ((), None)
            if handler is None or not exceptions:
                shell.set_custom_exc((), None)
            else:
                shell.custom_exceptions, shell.CustomTB = exceptions, handler
        self._deactivate()
        atexit.unregister(self._at_exit)
        try:
            # committed; the store stays open for the artifacts save and get returned
            self.sink.end()
        finally:
            print(f"lineagraph: stopped recording session {self.session_id} "
                  f"({self.sink.nodes} nodes, {self.sink.artifacts} artifacts saved)",
                  file=sys.stderr)

    # -- each cell -----------------------------------------------------------------------
    def pre_run_cell(self, info) -> None:
        self.cell = None
        self.in_cell = True
        if getattr(info, "silent", False) or not getattr(info, "store_history", True):
            return  # a frontend's own silent request: not the user's program
        self.cell = (info.raw_cell, self.shell.transform_cell(info.raw_cell))

    def transform(self, tree: ast.AST) -> ast.AST:
        cell, self.cell = self.cell, None
        if cell is None or not isinstance(tree, ast.Module):
            return tree  # not a cell (code a magic runs itself), or a silent one
        try:
            return self._transform(tree, *cell)
        except Exception as err:  # a cell the recorder cannot take runs unrecorded, and
            # the recording stops rather than go on with a hole in its graph
            self._fault(f"cannot record cell [{self._count()}] ({type(err).__name__}: "
                        f"{err})")
            return tree

    def _transform(self, tree: ast.Module, raw: str, text: str) -> ast.Module:
        code = SourceCode(id=get_new_id(), code=raw, location=JupyterCell(
            execution_count=self._count(), session_id=self.session_id))
        new_tree, sites = rewrite(tree, text, first_id=len(self.recorder.sites))
        if raw.rstrip("\n").count("\n") != text.rstrip("\n").count("\n"):
            _whole_cell(sites, raw)  # a %%cell magic: the cell is one statement
        self.sink.add_code(code)
        self.recorder.add_code(code, sites)
        return new_tree

    def _count(self) -> int:
        """The execution count of the cell being transformed. IPython has just named the
        cell after it (``Cell In[n]``: the last entry of its compiler's filename map);
        ``execution_count`` itself is already the next one in IPython 9.9 and later and
        still this one before, so it only serves where the map is missing."""
        names = getattr(self.shell.compile, "_filename_map", None)
        if names:
            return list(names.values())[-1]
        return self.shell.execution_count

    def post_run_cell(self, result) -> None:
        self.cell = None
        self.in_cell = False
        if self.stopping:
            self._teardown()
        else:
            self.sink.flush(wait=False)  # to the writer thread; the next cell runs at once


def _whole_cell(sites: list, raw: str) -> None:
    """Locate every site of a cell IPython turned into one call (a ``%%`` cell magic)
    at the whole cell as written."""
    lines = raw.rstrip("\n").split("\n")
    for site in sites:
        site.lineno, site.col_offset = 1, 0
        site.end_lineno, site.end_col_offset = len(lines), len(lines[-1])


def _show_user_error(shell, etype, value, tb, tb_offset=None):
    """The shell's handler of the cell's exceptions: IPython's own display, without the
    recorder's frames."""
    strip_recorder_frames(value)
    shell.showtraceback((etype, value, value.__traceback__), tb_offset=tb_offset)
    return None
