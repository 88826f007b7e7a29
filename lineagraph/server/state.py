"""The managed server's state directory and its small files.

Layout of ``<LINEAGRAPH_HOME>/neo4j/``::

    conf/neo4j.conf   written at every start from our settings
    data/             the databases (kept by ``stop``)
    logs/             neo4j.log, debug.log, console.log
    run/lineagraph.pid  pid of the running Java server (run/neo4j.pid is Neo4j's own)
    run/lineagraph.lock held while a start or stop is under way
    password          generated password, mode 0600
    state.json        backend, version and ports of the last start
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import string
from pathlib import Path

from pydantic import BaseModel

PASSWORD_LENGTH = 24
_ALPHABET = string.ascii_letters + string.digits


class ServerState(BaseModel):
    backend: str
    version: str
    bolt_port: int
    http_port: int


class StateDir:
    def __init__(self, root: Path):
        self.root = Path(root)

    conf = property(lambda self: self.root / "conf")
    data = property(lambda self: self.root / "data")
    logs = property(lambda self: self.root / "logs")
    run = property(lambda self: self.root / "run")
    # not run/neo4j.pid: Neo4j writes and deletes that one itself
    pid_file = property(lambda self: self.root / "run" / "lineagraph.pid")
    lock_file = property(lambda self: self.root / "run" / "lineagraph.lock")
    password_file = property(lambda self: self.root / "password")
    state_file = property(lambda self: self.root / "state.json")

    @contextlib.contextmanager
    def locked(self):
        """Serialise start and stop of this server across processes."""
        self.create()
        with open(self.lock_file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def create(self) -> None:
        for folder in (self.root, self.conf, self.data, self.logs, self.run):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    # -- password ---------------------------------------------------------------
    def password(self, create: bool = False) -> str | None:
        """The stored password; with ``create``, generate one on first use."""
        path = self.password_file
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        if not create:
            return None
        self.create()
        value = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        # O_EXCL + mode 0600 from the start: the file is never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
        return value

    # -- pid and state ------------------------------------------------------------
    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def write_pid(self, pid: int) -> None:
        self.run.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{pid}\n")

    def clear_pid(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def read_state(self) -> ServerState | None:
        try:
            return ServerState.model_validate(json.loads(self.state_file.read_text()))
        except (FileNotFoundError, ValueError):
            return None

    def clear_state(self) -> None:
        self.state_file.unlink(missing_ok=True)

    def write_state(self, state: ServerState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=2))
        tmp.replace(self.state_file)
