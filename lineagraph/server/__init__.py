"""The managed local Neo4j: lineagraph's embedded default when ``NEO4J_URI`` is unset.

``ManagedServer(home).start()`` brings up Neo4j 5.26 Community on 127.0.0.1 with auth
on: with Docker where it can work (the engine answers, a compose tool is installed and
the image is present or can be pulled), else with Java, saying in one line why Docker
was not used. A backend that fails to start is never remembered for the next start;
an automatic choice of Docker that fails at start-up falls back to Java. ``status()``
and ``stop()`` do what they say. State (data, logs, config, password) lives in ``<home>/neo4j``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import urllib.request
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, SecretStr

from .. import config
from ..config import ConnectionSettings
from ..connection import check_connection
from ..errors import (
    CredentialsRefusedError,
    DataPasswordError,
    PortInUseError,
    ServerError,
    ServerPrerequisiteError,
    StoreUnavailableError,
)
from . import docker
from .docker import DockerBackend, docker_answers
from .java import JavaBackend, find_java
from .ports import choose_ports, listened_by, port_answers
from .state import ServerState, StateDir

DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
DEFAULT_HEAP = "512m"
DEFAULT_PAGECACHE = "512m"
START_TIMEOUT = 180.0
PORT_ATTEMPTS = 3
AUTH_SETTLE = 15.0  # seconds a start-up login refusal must last to mean a wrong password


class ServerStatus(BaseModel):
    """What ``lineagraph neo4j status`` reports; enough for a script to connect."""

    running: bool
    backend: str | None = None
    version: str | None = None
    bolt_uri: str | None = None
    http_uri: str | None = None
    browser_url: str | None = None
    pid: int | None = None
    container: str | None = None
    user: str = config.DEFAULT_USERNAME
    password_file: str
    data_dir: str


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ServerError(f"{name} must be a port number, not {value!r}") from None


_log = logging.getLogger("lineagraph.server")


def log_notify(message: str) -> None:
    """The default progress callback: an INFO record on the ``lineagraph.server`` logger
    (the library never prints; the CLI passes a notifier that writes to stderr)."""
    _log.info(message)


class ManagedServer:
    """A Neo4j server whose state lives under ``<home>/neo4j``."""

    def __init__(
        self,
        home: Path | None = None,
        cache: Path | None = None,
        backend: str | None = None,
        heap: str | None = None,
        pagecache: str | None = None,
        bolt_port: int | None = None,
        http_port: int | None = None,
        notify: Callable[[str], None] = log_notify,
    ):
        self.home = Path(home) if home else config.home_dir()
        self.state = StateDir(self.home / "neo4j")
        self.cache = Path(cache) if cache else config.cache_dir()
        self.backend_choice = (backend or os.environ.get("LINEAGRAPH_NEO4J_BACKEND") or "auto")
        if self.backend_choice not in ("auto", "java", "docker"):
            raise ServerError(
                f"unknown backend {self.backend_choice!r}: use auto, java or docker"
            )
        self.heap = heap or os.environ.get("LINEAGRAPH_NEO4J_HEAP") or DEFAULT_HEAP
        self.pagecache = (
            pagecache or os.environ.get("LINEAGRAPH_NEO4J_PAGECACHE") or DEFAULT_PAGECACHE
        )
        self.bolt_port = bolt_port or _env_int("LINEAGRAPH_BOLT_PORT")
        self.http_port = http_port or _env_int("LINEAGRAPH_HTTP_PORT")
        self.notify = notify
        self.already_running = False  # set by start(): was it running before?

    # -- backends -------------------------------------------------------------------
    def _java(self) -> JavaBackend:
        return JavaBackend(self.state, self.cache, self.heap, self.pagecache, self.notify)

    def _docker(self, image: str | None = None) -> DockerBackend:
        return DockerBackend(self.state, self.heap, self.pagecache, self.notify, image)

    def _pick_backend(self):
        """The backend to start: the explicit choice, else the previous start's, else
        Docker when it can work here, else Java (with a one-line note of why)."""
        previous = self.state.read_state()
        if self.backend_choice == "java" or (
                self.backend_choice == "auto" and previous and previous.backend == "java"):
            return self._java()
        image = docker.chosen_image()
        if self.backend_choice == "docker":
            reason = docker.unavailable_reason(image, self.notify)
            if reason is not None:
                raise ServerPrerequisiteError(f"--backend docker cannot work here: {reason}")
            return self._docker(image)
        reason = docker.unavailable_reason(image, self.notify)
        if reason is None:
            return self._docker(image)
        try:
            find_java()
        except ServerPrerequisiteError as err:
            raise ServerPrerequisiteError(
                f"cannot start a local Neo4j: Docker cannot ({reason}) and {err}"
            ) from None
        self.notify(f"Not using Docker: {reason}. Using the Java backend.")
        return self._java()

    # -- status -----------------------------------------------------------------------
    def _live_pid(self) -> int | None:
        """The pid of our running Java server; a stale pid file is removed, and a lost
        one is found again from the server's command line."""
        java = self._java()
        pid = self.state.read_pid()
        if pid is not None and java.owns(pid):
            return pid
        self.state.clear_pid()
        found = java.find_pid()
        if found is not None:
            self.state.write_pid(found)
        return found

    def status(self) -> ServerStatus:
        saved = self.state.read_state()
        base = dict(password_file=str(self.state.password_file), data_dir=str(self.state.root))
        if saved is None:
            return ServerStatus(running=False, **base)
        pid = container = None
        if saved.backend == "java":
            pid = self._live_pid()
            running = pid is not None
        else:
            container_backend = self._docker()
            running = docker_answers() and container_backend.running()
            container = container_backend.container_id() if running else None
        version = saved.version
        if running:
            version = self._http_version(saved.http_port) or version
        return ServerStatus(
            running=running,
            backend=saved.backend,
            version=version,
            bolt_uri=f"bolt://127.0.0.1:{saved.bolt_port}",
            http_uri=f"http://127.0.0.1:{saved.http_port}",
            browser_url=f"http://127.0.0.1:{saved.http_port}/browser/",
            pid=pid,
            container=container,
            **base,
        )

    @staticmethod
    def _http_version(http_port: int) -> str | None:
        """Neo4j's discovery document (no auth needed) names the version."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/", timeout=2) as resp:
                return json.load(resp).get("neo4j_version")
        except (OSError, ValueError):
            return None

    def connection_settings(self) -> ConnectionSettings:
        saved = self.state.read_state()
        password = self.state.password()
        if saved is None or password is None:
            raise ServerError(f"the local Neo4j in {self.state.root} was never started")
        return ConnectionSettings(
            uri=f"bolt://127.0.0.1:{saved.bolt_port}",
            username=config.DEFAULT_USERNAME,
            password=SecretStr(password),
            database=config.DEFAULT_DATABASE,
        )

    # -- start / stop ---------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT) -> ServerStatus:
        """Start the server unless it runs already; return its status once it answers.

        Two processes starting the same server at once get one server: the second waits
        for the first and finds it running."""
        with self.state.locked():
            return self._start(timeout)

    def _start(self, timeout: float) -> ServerStatus:
        current = self.status()
        self.already_running = current.running
        if current.running:
            # a Java server of ours: only what it listens on is asked (a start killed
            # while its server was losing a port race leaves that server running)
            self._wait_ready(timeout, pid=current.pid if current.backend == "java" else None)
            return self.status()
        backend = self._pick_backend()
        self.state.create()
        self.state.password(create=True)
        try:
            return self._start_with(backend, timeout)
        except (ServerPrerequisiteError, DataPasswordError):
            raise
        except ServerError as err:
            if self.backend_choice != "auto" or backend.name != "docker":
                raise
            if any(self.state.data.iterdir()):
                # the container's entrypoint hands the data to its own user; running
                # Java on it could fail for another reason than the one that matters
                raise ServerError(f"{err} (the Docker backend already used "
                                  f"{self.state.data}; fix the above, or use "
                                  "--backend java with another LINEAGRAPH_HOME)") from None
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            self.notify(f"The Docker backend did not start Neo4j ({first[:300]}). "
                        "Using the Java backend.")
            return self._start_with(self._java(), timeout)

    def _start_with(self, backend, timeout: float) -> ServerStatus:
        backend.install()
        previous = self.state.read_state()
        preferred = [
            self.bolt_port or (previous.bolt_port if previous else DEFAULT_BOLT_PORT),
            self.http_port or (previous.http_port if previous else DEFAULT_HTTP_PORT),
        ]
        started = time.monotonic()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            ports = choose_ports(preferred)
            if ports != preferred and all(preferred):  # not on a retry's fresh ports
                self.notify(f"Port {preferred[0]} or {preferred[1]} is taken; using Bolt "
                            f"{ports[0]} and HTTP {ports[1]}.")
            try:
                self._launch(backend, *ports, timeout)
                break
            except PortInUseError:
                # Another process may bind a port between our check and the server's
                # bind: pick fresh ports and try again.
                if attempt == PORT_ATTEMPTS:
                    raise
                self.notify(f"A port was taken while Neo4j started ({ports}); retrying.")
                preferred = [0, 0]
        status = self.status()
        self.notify(
            f"Neo4j {status.version} is up at {status.bolt_uri} "
            f"(Browser: {status.browser_url}) after {time.monotonic() - started:.1f} s."
        )
        return status

    def _launch(self, backend, bolt_port: int, http_port: int, timeout: float) -> None:
        """Launch and wait; on any failure state.json goes back to what it was, so a
        backend that failed to start is never remembered."""
        previous = self.state.read_state()
        self.state.write_state(
            ServerState(backend=backend.name, version=backend.version,
                        bolt_port=bolt_port, http_port=http_port)
        )
        self.notify(
            f"Starting the local Neo4j {backend.version} ({backend.name} backend) "
            f"in {self.state.root} ..."
        )
        pid = None
        try:
            if isinstance(backend, JavaBackend):
                backend.write_config(bolt_port, http_port)
                pid = backend.launch()
                self.state.write_pid(pid)
            else:
                backend.launch_container(bolt_port, http_port)
            self._wait_ready(timeout, backend=backend, pid=pid)
        except BaseException:
            if pid is not None and not backend.exited(pid):
                backend.terminate(pid, timeout=30)
            elif pid is None and isinstance(backend, DockerBackend):
                with contextlib.suppress(ServerError):
                    if backend.container_id() is not None:
                        backend.stop_container()
            self.state.clear_pid()
            if previous is not None:  # keep describing the server that did work before
                self.state.write_state(previous)
            else:
                self.state.clear_state()
            raise

    def _wait_ready(self, timeout: float, backend=None, pid: int | None = None) -> None:
        deadline = time.monotonic() + timeout
        settings = self.connection_settings()
        port = int(settings.uri.rsplit(":", 1)[1])
        last_error = "no answer yet"
        refused_since: float | None = None
        while time.monotonic() < deadline:
            if pid is not None and backend is not None and backend.exited(pid):
                error = PortInUseError if backend.port_in_use() else ServerError
                raise error(f"Neo4j exited during start-up: {backend.log_tail()}")
            if isinstance(backend, DockerBackend) and backend.exited():
                raise ServerError(f"the Neo4j container stopped during start-up: "
                                  f"{backend.log_tail()}")
            answers = port_answers(port)
            if answers and not self._answered_by_ours(pid, port):
                last_error = (f"another process than the Neo4j we started (pid {pid}) "
                              f"listens on port {port}")
            elif answers:
                try:
                    check_connection(settings)
                    return
                except CredentialsRefusedError as err:
                    # A restarting Neo4j can refuse a login for a moment before its
                    # security module has read the system database (seen under load):
                    # only a refusal that lasts means another password.
                    refused_since = refused_since or time.monotonic()
                    last_error = str(err)
                    if time.monotonic() - refused_since > AUTH_SETTLE:
                        raise DataPasswordError(
                            f"Neo4j in {self.state.root} refuses the password in "
                            f"{self.state.password_file}: the data directory was created "
                            "with another password. Restore that file, or move the data "
                            "directory away to start afresh."
                        ) from None
                except StoreUnavailableError as err:
                    refused_since = None
                    last_error = str(err)
            time.sleep(0.5)
        tail = backend.log_tail() if backend is not None else ""
        raise ServerError(
            f"Neo4j did not answer on {settings.uri} within {timeout:.0f} s "
            f"({last_error}).\n{tail}"
        )

    @staticmethod
    def _answered_by_ours(pid: int | None, port: int) -> bool:
        """Whether what answers on ``port`` is the server we launched as ``pid``, not
        another one (another LINEAGRAPH_HOME's, started at the same moment, can bind the
        port between our check and our server's bind: ours then exits, PortInUseError,
        and we must never send our password to the other). A container's port is bound
        by Docker before the container starts, so only a Java pid is checked."""
        return pid is None or listened_by(pid, port) is not False

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop cleanly, keeping the data. False when it was not running."""
        if not self.state.root.exists():
            return False
        with self.state.locked():
            return self._stop(timeout)

    def _stop(self, timeout: float) -> bool:
        saved = self.state.read_state()
        if saved is None:
            return False
        if saved.backend == "java":
            pid = self._live_pid()
            if pid is None:
                return False
            self._java().terminate(pid, timeout)
            self.state.clear_pid()
            return True
        container_backend = self._docker()
        if not (docker_answers() and container_backend.running()):
            return False
        container_backend.stop_container()
        return True


def ensure_local_server(notify: Callable[[str], None] = log_notify) -> ConnectionSettings:
    """Start the managed server if needed (with a visible message) and return its settings."""
    server = ManagedServer(notify=notify)
    if not server.status().running:
        notify("NEO4J_URI is not set: using lineagraph's local Neo4j.")
        server.start()
    return server.connection_settings()
