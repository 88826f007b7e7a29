"""What a program calls: ``save``, ``get``, ``delete``, ``artifact_store``,
``file_system``, ``db`` (LineaPy's names and meanings).

Inside ``lineagraph run`` they use the recording's store and ``save`` records lineage;
``get``, ``delete`` and ``artifact_store`` also work in plain Python, on the store
lineagraph is configured for. Under ``lineagraph run``, ``import lineapy`` gives a
module with these same functions (:func:`lineapy_shim`).
"""

from __future__ import annotations

import contextlib
import datetime
import types
from typing import Any, Optional

from ..errors import LineagraphError

__all__ = ["save", "get", "delete", "artifact_store", "file_system", "db",
           "LineaArtifact", "ExternalState"]


class ExternalState:
    """Stands for state outside the program (files, databases), as LineaPy's
    ``lineapy.file_system`` and ``lineapy.db``: saving it saves the code that changed it."""

    def __init__(self, name: str):
        self.external_state = name

    def __repr__(self) -> str:
        return f"ExternalState(external_state={self.external_state!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExternalState) and other.external_state == self.external_state

    def __hash__(self) -> int:
        return hash(("ExternalState", self.external_state))

    def __reduce__(self):
        return (ExternalState, (self.external_state,))


file_system = ExternalState("file_system")
db = ExternalState("db")

_active: dict[str, Any] = {"recorder": None, "db": None}
_plain: dict[str, Any] = {"db": None}


def activate(recorder: Any = None, db: Any = None) -> None:
    """Point save/get/... at a running recording (the runner's start), or back at plain
    Python (``activate()``, at its end)."""
    _active.update(recorder=recorder, db=db)


def active_recorder() -> Any:
    """The recording save/get/... point at (None in plain Python)."""
    return _active["recorder"]


def _exclusive():
    """The store to ourselves: in a recording, its writer thread may be committing a part
    (``Sink.lock``); in plain Python nothing else uses it."""
    recorder = _active["recorder"]
    return recorder.sink.lock if recorder is not None else contextlib.nullcontext()


def _store():
    if _active["db"] is not None:
        return _active["db"]
    if _plain["db"] is None:
        from .sink import open_store
        _plain["db"] = open_store()
    return _plain["db"]


class LineaArtifact:
    """A saved artifact version: its value, its slice and its session's code."""

    def __init__(self, store, artifact):
        self._db = store
        self._artifact = artifact
        self.name: str = artifact.name
        self.version: int = artifact.version
        self.date_created: datetime.datetime = artifact.date_created
        self.node_id = artifact.node_id
        self.execution_id = artifact.execution_id

    def get_value(self) -> Any:
        with _exclusive():
            return self._db.load_node_value(self.node_id, self.execution_id)

    def get_code(self, keep_lineapy_save: bool = False) -> str:
        """The slice; a ``get(name)`` in it reads the version it read when recorded."""
        from ..slicing import get_program_slice
        from .pinning import pin_gets
        with _exclusive():
            code = get_program_slice(self._db, artifacts=[(self.name, self.version)],
                                     keep_lineapy_save=keep_lineapy_save)
            return pin_gets(self._db, code)

    def get_session_code(self) -> str:
        with _exclusive():
            session_id = self._db.get_node_by_id(self.node_id).session_id
            return self._db.get_source_code_for_session(session_id)

    def __repr__(self) -> str:
        return f"LineaArtifact(name={self.name!r}, version={self.version})"


def save(value: Any, name: str, *, _node_id: Optional[str] = None) -> LineaArtifact:
    """Save ``value`` as the next version of artifact ``name`` (durable on return)."""
    recorder = _active["recorder"]
    if recorder is None:
        raise LineagraphError(
            f"save({name!r}) records lineage, so it works only in a program run with "
            "`lineagraph run script.py` or in a notebook after `%load_ext lineagraph`")
    from ..store.validate import check_artifact_name

    # refused here, at the program's save line, before the writer sees the name (a
    # part the writer fails ends what the recording can store); raised from here, so
    # that the program's traceback ends at its own line, as for a TypeError of save's
    try:
        check_artifact_name(name)
    except (TypeError, ValueError) as err:
        raise err.with_traceback(None) from None
    artifact = recorder.save_artifact(value, name, _node_id)
    if not hasattr(artifact, "version"):
        return artifact  # saved when the enclosing statement's node is written
    return LineaArtifact(_store(), artifact)


def get(artifact_name: str, version: Optional[int] = None) -> LineaArtifact:
    """The artifact ``artifact_name`` at ``version`` (None: the latest)."""
    store = _store()
    if version is not None:
        from ..store import parse_artifact_version
        version = parse_artifact_version(version)
        if version == "latest":
            version = None
        elif version == "all":
            raise ValueError("get() takes one version: a number or 'latest'")
    with _exclusive():
        return LineaArtifact(store, store.get_artifact_by_name(artifact_name, version))


def delete(artifact_name: str, version: Any = "latest") -> int:
    """Delete one version of an artifact, ``"latest"`` or ``"all"``."""
    store = _store()
    with _exclusive():
        return store.delete_artifact_by_name(artifact_name, version=version)


class ArtifactStore:
    """The artifacts in the store (LineaPy's ``artifact_store()``)."""

    def __init__(self, store):
        self._db = store
        self.artifacts = [LineaArtifact(store, a) for a in store.get_all_artifacts()]

    def __len__(self) -> int:
        return len(self.artifacts)

    def __iter__(self):
        return iter(self.artifacts)

    def __repr__(self) -> str:
        return "\n".join(f"{a.name}:{a.version} created on {a.date_created}"
                         for a in self.artifacts)


def artifact_store() -> ArtifactStore:
    store = _store()
    with _exclusive():
        return ArtifactStore(store)


_STORE_API = ("save", "get", "delete", "artifact_store", "file_system", "db")


def lineapy_shim() -> types.ModuleType:
    """A ``lineapy`` module for programs run by ``lineagraph run``."""
    module = types.ModuleType("lineapy", "lineagraph's stand-in for LineaPy's store API")
    for name in _STORE_API:
        setattr(module, name, globals()[name])
    module.__version__ = "0.2.3+lineagraph"

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)

        def unsupported(*args, **kwargs):
            raise LineagraphError(
                f"lineapy.{name} is not available under lineagraph, which provides "
                f"LineaPy's store API only ({', '.join(_STORE_API)})")
        unsupported.__name__ = name
        return unsupported

    def load_ipython_extension(ipython) -> None:  # `%load_ext lineapy`
        from .ipython import load
        load(ipython)

    def unload_ipython_extension(ipython) -> None:
        from .ipython import unload
        unload(ipython)

    module.load_ipython_extension = load_ipython_extension
    module.unload_ipython_extension = unload_ipython_extension
    module.__getattr__ = __getattr__
    return module
