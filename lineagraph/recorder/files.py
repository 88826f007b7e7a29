"""Which files a call opened, read or wrote, from Python's audit events (PEP 578).

``open`` fires for every file opened through Python (``open``, ``io``, pandas, NumPy's
``save``/``load``...), with the path and mode; ``os.remove``/``os.rename``/... for
the rest. The hook is installed once per process (audit hooks cannot be removed) and
does nothing unless a capture is active.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CHANGES = {"os.remove", "os.rename", "os.truncate", "shutil.rmtree", "os.rmdir",
            "shutil.move", "shutil.copyfile"}

_captures: list["Capture"] = []
_installed = False
_ignored_roots: list[str] = []


class Capture:
    def __init__(self) -> None:
        self.reads: list[str] = []
        self.writes: list[str] = []


def _path(raw) -> Optional[str]:
    if isinstance(raw, int):
        return None
    try:
        path = os.path.abspath(os.fsdecode(raw))
    except (TypeError, ValueError):
        return None
    if "__pycache__" in path or any(path.startswith(r) for r in _ignored_roots):
        return None
    return path


def _hook(event: str, args: tuple) -> None:
    if not _captures:
        return
    if event == "open":
        path = _path(args[0])
        if path is None:
            return
        mode, flags = args[1], args[2]
        writes = (any(c in mode for c in "wax+") if isinstance(mode, str)
                  else bool((flags or 0) & _WRITE_FLAGS))
        for capture in _captures:
            (capture.writes if writes else capture.reads).append(path)
    elif event in _CHANGES:
        for raw in args[:2]:
            path = _path(raw) if isinstance(raw, (str, bytes, os.PathLike)) else None
            if path is not None:
                for capture in _captures:
                    capture.writes.append(path)


def install(ignore: list[str]) -> None:
    global _installed
    _ignored_roots[:] = [os.path.abspath(p) for p in ignore]
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def begin() -> Capture:
    capture = Capture()
    _captures.append(capture)
    return capture


def end(capture: Capture) -> Capture:
    if capture in _captures:
        # anything begun after it and not ended (an exception skipped its end) goes too
        del _captures[_captures.index(capture):]
    return capture
