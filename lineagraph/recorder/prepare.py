"""A script made ready to record: read, parsed, rewritten (``rewrite``) and compiled.

For a long script this is as much work as importing the driver and the store: about
0.6 s each for 3,200 lines. ``Preparation`` therefore starts it in a forked child
process where that is safe (Linux, one thread), before ``lineagraph run`` imports
the store, and the two run on two cores; the child sends back the compiled code and
the sites with ``marshal`` (pickling the sites took longer than making them).
Elsewhere, or when the child fails, the work is done in the process itself.

Only the standard library and ``rewrite`` are imported here, so the child starts at
once. A script that cannot be read or parsed raises ``ScriptError`` with Python's
own message and exit code, before anything touches the store.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import dataclasses
import gc
import marshal
import os
import signal
import sys
import threading
import time
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .analysis import Names
from .rewrite import Site, rewrite


class ScriptError(Exception):
    """The script cannot be read or parsed; ``exit_code`` is Python's."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Prepared:
    path: Path
    source: str
    code: types.CodeType
    sites: list[Site]
    started: float = 0.0  # time.perf_counter() when its preparation began


def load(script: str) -> tuple[Path, str, ast.Module]:
    """The script's absolute path (Python's ``__file__`` and code file name for a
    script, symbolic links kept), text and AST; ScriptError as ``python script.py``
    says it."""
    path = Path(os.path.abspath(script))
    try:
        source = path.read_bytes()
    except OSError as err:
        raise ScriptError(f"{Path(sys.executable).name}: can't open file "
                          f"{str(path)!r}: [Errno {err.errno}] {err.strerror}", 2)
    try:
        tree = ast.parse(source, filename=str(path))
        text = source.decode("utf-8") if not source.startswith(b"\xef\xbb\xbf") \
            else source[3:].decode("utf-8")
    except (SyntaxError, ValueError, UnicodeDecodeError) as err:
        raise ScriptError("".join(traceback.format_exception_only(type(err), err)), 1)
    return path, text, tree


def prepare(script: str) -> Prepared:
    """The script ready to run under the recorder, in this process."""
    started = time.perf_counter()
    with collector_paused():  # no program runs yet: the cyclic collector has nothing to do
        path, source, tree = load(script)
        new_tree, sites = rewrite(tree, source, script=True)
        try:
            code = compiled(new_tree, path)
        except SyntaxError as err:
            raise _compile_error(source, path, err) from None
        # the trees freed while the collector is off: alive when it came back on, their
        # ~200,000 nodes were walked by the collection the next allocation started
        del tree, new_tree
    return Prepared(path, source, code, sites, started)


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic collector off (when it was on): rewriting a long script makes
    ~100,000 AST nodes, and the collections they trigger were a third of its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compiled(tree: ast.Module, path: Path):
    """The rewritten tree compiled as Python compiles a script: with no ``__future__``
    flag of lineagraph's own modules (``dont_inherit``). The rewriter locates every node
    it makes (``hook``, ``_located``), so the whole-tree ``ast.fix_missing_locations``
    walk runs only when compile finds a node without a location (it refuses those)."""
    try:
        return compile(tree, str(path), "exec", dont_inherit=True)
    except (TypeError, ValueError):
        return compile(ast.fix_missing_locations(tree), str(path), "exec",
                       dont_inherit=True)


def _compile_error(source: str, path: Path, err: SyntaxError) -> Exception:
    """What a rewritten script that does not compile means: Python's own error when
    the script itself does not compile (``break`` outside a loop parses, and only the
    compiler refuses it), else a fault of the rewriter, said as one."""
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as own:
        return ScriptError("".join(traceback.format_exception_only(type(own), own)), 1)
    from ..errors import LineagraphError

    return LineagraphError(
        f"lineagraph cannot record {path.name}: the script compiles, but its recorded form "
        f"does not ({type(err).__name__}: {err}); this is a fault of lineagraph's rewriter, "
        "please report it with the script")


class Preparation:
    """``prepare(script)``, begun now: in a child process when it can be, so that the
    caller's own work (importing the store) runs meanwhile. ``result()`` waits for it."""

    def __init__(self, script: str, fork: Optional[bool] = None):
        self.script = script
        self.started = time.perf_counter()
        self._pid: Optional[int] = None
        self._pipe: Optional[int] = None
        if fork if fork is not None else can_fork():
            self._start()

    def result(self) -> Prepared:
        """The prepared script; ScriptError when it cannot be read or parsed."""
        if self._pid is not None:
            try:
                found = self._collect()
            finally:
                self.close()
            if found is not None:
                found.started = self.started
                return found
        # no child, or it failed in a way it could not report: here, where any error
        # shows as it would without the child
        prepared = prepare(self.script)
        prepared.started = self.started
        return prepared

    def close(self) -> None:
        """Stop and reap a child still running (the caller gave up before ``result``)."""
        if self._pipe is not None:
            os.close(self._pipe)  # a child blocked writing its answer gets EPIPE and exits
            self._pipe = None
        if self._pid is not None:
            pid, self._pid = self._pid, None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # reaped already (SIGCHLD ignored)
                pass

    def __enter__(self) -> "Preparation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        try:
            read, write = os.pipe()
        except OSError:  # no descriptor to spare: result() prepares it here
            return
        try:
            pid = os.fork()
        except OSError:  # no process to spare: result() prepares it here
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: never returns into the caller's code
            try:
                os.close(read)
                try:
                    data = marshal.dumps(_answer(self.script))
                except ValueError:  # a value marshal cannot carry: the parent does it all
                    data = marshal.dumps(("failed",))
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._pipe = pid, read

    def _collect(self) -> Optional[Prepared]:
        pipe, self._pipe = self._pipe, None
        with os.fdopen(pipe, "rb") as answer:
            data = answer.read()
        pid, self._pid = self._pid, None
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # reaped already (SIGCHLD ignored)
            pass
        try:
            kind, *rest = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None  # the child died before answering (killed, out of memory)
        if kind == "error":
            message, exit_code = rest
            raise ScriptError(message, exit_code)
        if kind != "prepared":
            return None
        path, source, code, sites = rest
        return Prepared(Path(path), source, code, [_site(s) for s in sites])


# the preparation lineagraph.launch began before the command line was parsed
_begun: Optional[Preparation] = None


def begin(script: str) -> None:
    """Start preparing ``script`` now, for the ``take`` that ``lineagraph run`` makes
    once its command line is parsed (a child never taken is reaped at exit)."""
    global _begun
    if _begun is None:
        _begun = Preparation(script)
        atexit.register(_begun.close)


def take(script: str) -> Preparation:
    """The preparation of ``script``: the one begun for it, else a new one."""
    global _begun
    begun, _begun = _begun, None
    if begun is not None:
        if begun.script == script:
            return begun
        begun.close()  # begun for another reading of the line: not this script
    return Preparation(script)


def can_fork() -> bool:
    """A child forked now runs only our code: Linux (macOS frameworks are not safe to
    use in a forked child), and no other thread that could hold a lock at the fork."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and threading.active_count() == 1)


def _answer(script: str) -> tuple:
    """What the child sends: the prepared script as marshal's plain values, or
    Python's message for a script it cannot read or parse."""
    try:
        prepared = prepare(script)
    except ScriptError as err:
        return ("error", str(err), err.exit_code)
    except BaseException:  # noqa: BLE001  the parent prepares it again and shows why
        return ("failed",)
    # each site as its fields in their order (_SITE_FIELDS), its Names as a tuple
    sites = [tuple(_plain(getattr(s, name)) for name in _SITE_FIELDS)
             for s in prepared.sites]
    return ("prepared", str(prepared.path), prepared.source, prepared.code, sites)


def _plain(value):
    return dataclasses.astuple(value) if isinstance(value, Names) else value


_SITE_FIELDS = tuple(f.name for f in dataclasses.fields(Site))


_NAMES = _SITE_FIELDS.index("names")


def _site(values: tuple) -> Site:
    """A Site from the child's tuple of its fields (in their order): filled in as
    dataclasses' own ``__init__`` would, at a fifth of its cost (16,000 sites)."""
    site = object.__new__(Site)
    site.__dict__.update(zip(_SITE_FIELDS, values))
    if values[_NAMES] is not None:
        site.names = Names(*values[_NAMES])
    return site
