"""Run a script as ``python script.py ARGS`` would, recording it.

Same ``sys.argv``, ``sys.path[0]``, ``__name__ == "__main__"``, working directory, output,
exit code and exceptions (tracebacks show the user's lines; the recorder's frames are
taken out). The script is read and parsed before the store is touched, so a missing or
broken script leaves nothing behind; the store is checked before anything runs.
"""

from __future__ import annotations

import builtins
import datetime
import os
import platform
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .._gc import freeze, unfreeze
from ..errors import LineagraphError
from ..models import Execution, SessionContext, SessionType, SourceCode, get_new_id
from . import api, files
from .common import strip_recorder_frames
from .prepare import Prepared, prepare
from .rewrite import HOOKS
from .sink import Sink
from .tracer import Recorder


@dataclass
class RunResult:
    exit_code: int
    session_id: Optional[str] = None
    nodes: int = 0
    artifacts: int = 0
    seconds: float = 0.0
    # the program ended on a KeyboardInterrupt it did not catch: Python then dies of
    # SIGINT (exit status 130 to a shell), which the command does too (recorder/cli.py)
    interrupted: bool = False


def run(script: str, args: list[str], db, quiet: bool = False,
        prepared: Optional[Prepared] = None) -> RunResult:
    """Record ``script`` into ``db`` (a GraphLineaDB); return what happened. ``prepared``:
    the script prepared already (``lineagraph run`` prepares it while it imports the
    store: prepare.Preparation); ScriptError when it cannot be read or parsed."""
    prepared = prepared or prepare(script)
    started = prepared.started  # the summary's time includes the script's preparation
    path, source, code_obj, sites = (prepared.path, prepared.source, prepared.code,
                                     prepared.sites)
    del prepared

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

    saved = _swap(module, script, path, args)
    setattr(builtins, HOOKS, recorder)
    api.activate(recorder=recorder, db=db)
    exit_code = 0
    interrupted = False
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
        exit_code, interrupted = 130, True
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
                       time.perf_counter() - started, interrupted)
    if not quiet:
        print(f"lineagraph: recorded session {session_id} ({result.nodes} nodes, "
              f"{result.artifacts} artifacts saved) in {result.seconds:.2f} s",
              file=sys.stderr)
    return result


def _swap(module, script: str, path: Path, args: list[str]) -> dict:
    """The interpreter's state as ``python script ARGS`` sets it: ``sys.argv[0]`` the
    script as given, ``sys.path[0]`` its folder (symbolic links resolved), ``__main__``."""
    saved = {"argv": sys.argv, "path0": sys.path[0] if sys.path else None,
             "main": sys.modules.get("__main__"), "lineapy": sys.modules.get("lineapy")}
    sys.argv = [script] + list(args)
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
