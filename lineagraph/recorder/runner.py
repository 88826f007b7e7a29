"""Run a script as ``python script.py ARGS`` would, recording it.

Same ``sys.argv``, ``sys.path[0]``, ``__name__ == "__main__"``, working directory, output,
exit code and exceptions (tracebacks show the user's lines; the recorder's frames are
taken out). The script is read and parsed before the store is touched, so a missing or
broken script leaves nothing behind; the store is checked before anything runs.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import datetime
import gc
import os
import platform
import sys
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .._gc import freeze, unfreeze
from ..errors import LineagraphError
from ..models import Execution, SessionContext, SessionType, SourceCode, get_new_id
from . import api, files
from .common import strip_recorder_frames
from .rewrite import HOOKS, rewrite
from .sink import Sink
from .tracer import Recorder


@dataclass
class RunResult:
    exit_code: int
    session_id: Optional[str] = None
    nodes: int = 0
    artifacts: int = 0
    seconds: float = 0.0


class ScriptError(Exception):
    """The script cannot be read or parsed; ``exit_code`` is Python's."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def load(script: str) -> tuple[Path, str, ast.Module]:
    path = Path(script)
    try:
        source = path.read_bytes()
    except OSError as err:
        raise ScriptError(f"{Path(sys.executable).name}: can't open file "
                          f"{str(path.absolute())!r}: [Errno {err.errno}] {err.strerror}", 2)
    try:
        tree = ast.parse(source, filename=str(path))
        text = source.decode("utf-8") if not source.startswith(b"\xef\xbb\xbf") \
            else source[3:].decode("utf-8")
    except (SyntaxError, ValueError, UnicodeDecodeError) as err:
        raise ScriptError("".join(traceback.format_exception_only(type(err), err)), 1)
    return path, text, tree


def run(script: str, args: list[str], db, quiet: bool = False,
        loaded: Optional[tuple[Path, str, ast.Module]] = None) -> RunResult:
    """Record ``script`` into ``db`` (a GraphLineaDB); return what happened. ``loaded``:
    what ``load(script)`` returned, when the caller loaded it already (parsing a long
    script again cost a tenth of a second)."""
    started = time.perf_counter()
    with _collector_paused():  # no program runs yet: the cyclic collector has nothing to do
        path, source, tree = loaded or load(script)
        new_tree, sites = rewrite(tree, source)
        code_obj = _compiled(new_tree, path)
        del new_tree, tree, loaded

    session_id, execution_id = get_new_id(), get_new_id()
    now = datetime.datetime.now()
    code = SourceCode(id=get_new_id(), code=source, location=path.resolve())
    sink = Sink(db)
    sink.begin(SessionContext(id=session_id, environment_type=SessionType.SCRIPT,
                              python_version=platform.python_version(), creation_time=now,
                              working_directory=os.getcwd(), execution_id=execution_id),
               Execution(id=execution_id, timestamp=now), code)

    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    module.__builtins__ = builtins
    module.__cached__ = None
    user_globals = module.__dict__
    recorder = Recorder(sink, session_id, code, user_globals, sites,
                        {"file_system": api.file_system, "db": api.db})
    recorder.save_functions.add(id(api.save))
    recorder.get_functions.add(id(api.get))
    files.install([str(db.blobs.root)])

    saved = _swap(module, path, args)
    setattr(builtins, HOOKS, recorder)
    api.activate(recorder=recorder, db=db)
    exit_code = 0
    # What exists now (modules, the recorder's sites) lives as long as the run: frozen,
    # the collections the program triggers do not walk it again each time. Nothing of
    # the program exists yet, so what it computes and frees is collected as without us.
    freeze()
    try:
        exec(code_obj, user_globals)
    except SystemExit as done:
        exit_code = _exit_code(done)
    except KeyboardInterrupt as err:
        _print_user_error(err)
        exit_code = 130
    except BaseException as err:  # the program's own error: as Python shows it
        _print_user_error(err)
        exit_code = 1
    finally:
        api.activate()
        if getattr(builtins, HOOKS, None) is recorder:
            delattr(builtins, HOOKS)
        _restore(saved)
        sys.stdout.flush()
        unfreeze()
        try:
            recorder.finish()
        except LineagraphError as err:  # a part failed: what came before it is stored
            print(f"lineagraph: the recording of session {session_id} is incomplete, "
                  f"the store failed: {err}", file=sys.stderr)
            exit_code = exit_code or err.exit_code
            quiet = True  # no summary line counting nodes that were not stored
    result = RunResult(exit_code, session_id, sink.nodes, sink.artifacts,
                       time.perf_counter() - started)
    if not quiet:
        print(f"lineagraph: recorded session {session_id} ({result.nodes} nodes, "
              f"{result.artifacts} artifacts saved) in {result.seconds:.2f} s",
              file=sys.stderr)
    return result


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic collector off (when it was on): rewriting a long script makes
    ~100,000 AST nodes, and the collections they trigger were a third of its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compiled(tree: ast.Module, path: Path):
    """The rewritten tree compiled. The rewriter locates every node it makes (``hook``,
    ``_located``), so the whole-tree ``ast.fix_missing_locations`` walk runs only when
    compile finds a node without a location (it refuses those)."""
    try:
        return compile(tree, str(path), "exec")
    except (TypeError, ValueError):
        return compile(ast.fix_missing_locations(tree), str(path), "exec")


def _swap(module, path: Path, args: list[str]) -> dict:
    saved = {"argv": sys.argv, "path0": sys.path[0] if sys.path else None,
             "main": sys.modules.get("__main__"), "lineapy": sys.modules.get("lineapy")}
    sys.argv = [str(path)] + list(args)
    script_dir = str(path.resolve().parent)
    if sys.path:
        sys.path[0] = script_dir
    else:
        sys.path.insert(0, script_dir)
    sys.modules["__main__"] = module
    sys.modules["lineapy"] = api.lineapy_shim()
    return saved


def _restore(saved: dict) -> None:
    sys.argv = saved["argv"]
    if saved["path0"] is not None and sys.path:
        sys.path[0] = saved["path0"]
    if saved["main"] is not None:
        sys.modules["__main__"] = saved["main"]
    if saved["lineapy"] is not None:
        sys.modules["lineapy"] = saved["lineapy"]
    else:
        sys.modules.pop("lineapy", None)


def _exit_code(done: SystemExit) -> int:
    code = done.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_user_error(err: BaseException) -> None:
    strip_recorder_frames(err)
    sys.stdout.flush()
    sys.excepthook(type(err), err, err.__traceback__)
