"""The Docker backend: the official ``neo4j:5.26-community`` image via docker/compose.yml.

Chosen automatically when a Docker engine answers. The password reaches the container
through the environment of ``docker compose`` (never its command line).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

from ..errors import ServerError
from ..resources import data_path
from .state import StateDir

IMAGE = "neo4j:5.26-community"


def docker_answers(timeout: float = 8.0) -> bool:
    """True when a Docker engine (not only the client) responds."""
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


class DockerBackend:
    name = "docker"
    version = "5.26"

    def __init__(self, state: StateDir, heap: str, pagecache: str, notify):
        self.state = state
        self.heap = heap
        self.pagecache = pagecache
        self.notify = notify
        digest = hashlib.sha256(str(state.root).encode()).hexdigest()[:10]
        self.project = f"lineagraph-{digest}"

    def installed(self) -> bool:
        return True  # docker pulls the image on first `up`

    def install(self) -> None:
        return None

    def _compose(self, *args: str, ports: tuple[int, int] | None = None, check=True):
        env = dict(os.environ)
        env.update(
            LINEAGRAPH_COMPOSE_PROJECT=self.project,
            LINEAGRAPH_NEO4J_DATA=str(self.state.root),
            LINEAGRAPH_HEAP=self.heap,
            LINEAGRAPH_PAGECACHE=self.pagecache,
            LINEAGRAPH_NEO4J_PASSWORD=self.state.password(create=True) or "",
        )
        if ports:
            env["LINEAGRAPH_BOLT_PORT"], env["LINEAGRAPH_HTTP_PORT"] = map(str, ports)
        cmd = ["docker", "compose", "-f", str(data_path("docker/compose.yml")), *args]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise ServerError(f"docker compose {args[0]} failed: {done.stderr.strip()[-1500:]}")
        return done

    def launch_container(self, bolt_port: int, http_port: int) -> str:
        self.notify(f"Starting {IMAGE} with Docker (project {self.project})...")
        self._compose("up", "-d", ports=(bolt_port, http_port))
        return self.container_id() or ""

    def container_id(self) -> str | None:
        done = self._compose("ps", "-q", "neo4j", check=False)
        ident = done.stdout.strip()
        return ident or None

    def running(self) -> bool:
        done = self._compose("ps", "--format", "json", "neo4j", check=False)
        text = done.stdout.strip()
        if not text:
            return False
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return any(row.get("State") == "running" for row in rows)

    def stop_container(self) -> None:
        self._compose("stop")

    def log_tail(self, chars: int = 1500) -> str:
        done = self._compose("logs", "--tail", "40", "neo4j", check=False)
        return done.stdout[-chars:]
