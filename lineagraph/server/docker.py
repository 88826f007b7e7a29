"""The Docker backend: a Neo4j 5.26 Community image run through docker/compose.yml.

Which image: ``LINEAGRAPH_NEO4J_IMAGE`` when set; else the official
``neo4j:5.26-community`` when it is present (or can be pulled); else the image that
``make neo4j-image`` builds on machines without a registry, ``lineagraph/neo4j:5.26-community``.

The backend works only when the engine answers, a compose tool is installed (the
``docker compose`` plugin or the standalone ``docker-compose``) and the image is present
or can be pulled; :func:`unavailable_reason` says which of these is missing, so the
automatic choice can fall back to Java and an explicit ``--backend docker`` can say
exactly what is wrong. The password reaches the container through the environment of
the compose process (never a command line). Every docker call has a time limit: a hung
engine gives an error, not a hang.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from typing import Callable

from ..errors import PortInUseError, ServerError, ServerPrerequisiteError
from ..resources import data_path
from .state import StateDir

OFFICIAL_IMAGE = "neo4j:5.26-community"
LOCAL_IMAGE = "lineagraph/neo4j:5.26-community"  # built by `make neo4j-image`
IMAGE_VARIABLE = "LINEAGRAPH_NEO4J_IMAGE"
CALL_TIMEOUT = 60.0   # compose up/stop/ps, docker inspect/logs
PULL_TIMEOUT = 900.0  # a real pull of the official image over a slow line

_compose_cache: dict[str, list[str] | None] = {}


def _run(cmd: list[str], timeout: float = CALL_TIMEOUT, env: dict | None = None,
         ) -> subprocess.CompletedProcess:
    """Run a docker command; a missing binary or a time-out is a ServerError."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ServerPrerequisiteError(f"`{cmd[0]}` is not installed") from None
    except subprocess.TimeoutExpired:
        raise ServerError(
            f"`{' '.join(cmd[:3])}` did not finish within {timeout:.0f} s: is the Docker "
            "engine hung? (`docker info`)") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def docker_answers(timeout: float = 8.0) -> bool:
    """True when a Docker engine (not only the client) responds."""
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        done = _run([docker, "info", "--format", "{{.ServerVersion}}"], timeout=timeout)
    except ServerError:
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def compose_command() -> list[str] | None:
    """``docker compose`` (the v2 plugin) or ``docker-compose`` (standalone), if either runs."""
    if "cmd" not in _compose_cache:
        found = None
        for cmd in (["docker", "compose"], ["docker-compose"]):
            if not shutil.which(cmd[0]):
                continue
            try:
                if _run([*cmd, "version"], timeout=20).returncode == 0:
                    found = cmd
                    break
            except ServerError:
                continue
        _compose_cache["cmd"] = found
    return _compose_cache["cmd"]


def image_present(image: str) -> bool:
    try:
        return _run(["docker", "image", "inspect", image], timeout=20).returncode == 0
    except ServerError:
        return False


def chosen_image() -> str:
    """The image the backend runs (see the module docstring)."""
    explicit = os.environ.get(IMAGE_VARIABLE)
    if explicit:
        return explicit
    if not image_present(OFFICIAL_IMAGE) and image_present(LOCAL_IMAGE):
        return LOCAL_IMAGE
    return OFFICIAL_IMAGE


def pull(image: str, notify: Callable[[str], None]) -> str | None:
    """Pull ``image``; None when it worked, else why not (one line)."""
    notify(f"Pulling {image} (Docker)...")
    done = _run(["docker", "pull", image], timeout=PULL_TIMEOUT)
    return None if done.returncode == 0 else _last_line(done.stderr or done.stdout)


def unavailable_reason(image: str, notify: Callable[[str], None], try_pull: bool = True,
                       compose: bool = True) -> str | None:
    """None when the Docker backend can run ``image`` here, else what is missing
    (``compose=False``: a compose tool is not needed, as for testcontainers)."""
    if not shutil.which("docker"):
        return "there is no `docker` command"
    if not docker_answers():
        return "no Docker engine answers (`docker info` fails)"
    if compose and compose_command() is None:
        return ("the Docker engine answers but neither `docker compose` (the compose "
                "plugin) nor `docker-compose` is installed")
    if image_present(image):
        return None
    if not try_pull:
        return f"the image {image} is not present"
    why = pull(image, notify)
    if why is None:
        return None
    hint = ("" if image == LOCAL_IMAGE else
            f"; `make neo4j-image` builds {LOCAL_IMAGE} here, which is then used")
    return f"the image {image} is not present and cannot be pulled ({why}){hint}"


class DockerBackend:
    name = "docker"

    def __init__(self, state: StateDir, heap: str, pagecache: str, notify,
                 image: str | None = None):
        self.state = state
        self.heap = heap
        self.pagecache = pagecache
        self.notify = notify
        self.image = image or chosen_image()
        digest = hashlib.sha256(str(state.root).encode()).hexdigest()[:10]
        self.project = f"lineagraph-{digest}"

    @property
    def version(self) -> str:
        return self.image.rpartition(":")[2] or self.image

    def install(self) -> None:
        """Make sure the engine, compose and the image are there (pulling if needed)."""
        reason = unavailable_reason(self.image, self.notify)
        if reason is not None:
            raise ServerPrerequisiteError(f"the Docker backend cannot run here: {reason}")

    def _compose(self, *args: str, ports: tuple[int, int] | None = None, check=True):
        compose = compose_command()
        if compose is None:
            raise ServerPrerequisiteError(
                "neither `docker compose` nor `docker-compose` is installed")
        env = dict(os.environ)
        for var in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
            env.pop(var, None)  # our client settings are no business of the server's
        env.update(
            LINEAGRAPH_NEO4J_IMAGE=self.image,
            LINEAGRAPH_NEO4J_DATA=str(self.state.root),
            LINEAGRAPH_HEAP=self.heap,
            LINEAGRAPH_PAGECACHE=self.pagecache,
            LINEAGRAPH_NEO4J_PASSWORD=self.state.password(create=True) or "",
        )
        if ports:
            env["LINEAGRAPH_BOLT_PORT"], env["LINEAGRAPH_HTTP_PORT"] = map(str, ports)
        cmd = [*compose, "-p", self.project, "-f", str(data_path("docker/compose.yml")), *args]
        done = _run(cmd, env=env)
        if check and done.returncode != 0:
            raise ServerError(
                f"{' '.join(compose)} {args[0]} failed: {(done.stderr or done.stdout).strip()[-1500:]}")
        return done

    def launch_container(self, bolt_port: int, http_port: int) -> str:
        self.notify(f"Starting {self.image} with Docker (project {self.project})...")
        self.state.data.mkdir(parents=True, exist_ok=True)
        self.state.logs.mkdir(parents=True, exist_ok=True)
        done = self._compose("up", "-d", ports=(bolt_port, http_port), check=False)
        if done.returncode != 0:
            error = (done.stderr or done.stdout).strip()
            # The engine reports a taken port only in its message text; read it here only.
            taken = "port is already allocated" in error or "address already in use" in error
            raise (PortInUseError if taken else ServerError)(
                f"{' '.join(compose_command() or ['compose'])} up failed: {error[-1500:]}")
        return self.container_id() or ""

    def container_id(self) -> str | None:
        """Our container (running or not), found by the labels both compose tools set."""
        done = _run(["docker", "ps", "-aq",
                     "--filter", f"label=com.docker.compose.project={self.project}",
                     "--filter", "label=com.docker.compose.service=neo4j"])
        ident = done.stdout.strip().splitlines()
        return ident[0] if done.returncode == 0 and ident else None

    def running(self) -> bool:
        ident = self.container_id()
        if ident is None:
            return False
        # .State.Running stays true while the engine restarts a crashed container
        # (restart: unless-stopped), so read the status itself.
        done = _run(["docker", "inspect", "-f", "{{.State.Status}}", ident])
        return done.returncode == 0 and done.stdout.strip() in ("running", "paused")

    def exited(self) -> bool:
        return not self.running()

    def stop_container(self) -> None:
        self._compose("stop")

    def log_tail(self, chars: int = 1500) -> str:
        ident = self.container_id()
        if ident is None:
            return "no container was created"
        done = _run(["docker", "logs", "--tail", "40", ident])
        return (done.stdout + done.stderr)[-chars:]
