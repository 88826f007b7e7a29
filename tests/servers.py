"""The real Neo4j a test run uses, chosen once per run (see conftest.py).

``LINEAGRAPH_TEST_NEO4J_URI`` (a server of yours) wins. Else ``LINEAGRAPH_TEST_BACKEND``:

- ``testcontainers``: testcontainers' Neo4j module on the image lineagraph's Docker
  backend would run (``LINEAGRAPH_NEO4J_IMAGE``, else the official
  ``neo4j:5.26-community`` if present or pullable, else ``lineagraph/neo4j:5.26-community``
  from ``make neo4j-image``); failing to start it fails the run;
- ``java``: lineagraph's managed local server (Java backend) in a private directory
  on free ports;
- ``auto`` (default): testcontainers when a Docker engine answers and the image is
  there, else the Java server, with the reason in the pytest header.

testcontainers' reaper (Ryuk) is an image no registry-less machine can pull, so it is
switched off; containers are removed when the run ends, and containers of an earlier
run that was killed are removed at the next start (they carry the run's pid in a label).
"""

from __future__ import annotations

import os
import secrets
import signal
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import SecretStr

from lineagraph.config import ConnectionSettings
from lineagraph.connection import check_connection
from lineagraph.server import ManagedServer, docker
from lineagraph.server.ports import free_port

PREFIX = "LINEAGRAPH_TEST_NEO4J_"
BACKEND_VARIABLE = "LINEAGRAPH_TEST_BACKEND"
BACKENDS = ("auto", "testcontainers", "java")
OWNER_LABEL = "io.lineagraph.tests.pid"


@dataclass
class RunServer:
    settings: ConnectionSettings
    description: str                       # for the pytest header and the summary
    managed: ManagedServer | None = None   # set when it is lineagraph's managed server
    container: object | None = None        # the testcontainers container, if one

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()  # removes it (testcontainers' stop() removes too)
        if self.managed is not None:
            self.managed.stop()


def stop_servers_on_sigterm() -> None:
    """``kill`` (SIGTERM) of the run ends it as Ctrl-C does: pytest then tears down its
    fixtures and ends the session, stopping the servers the run and its tests started
    (a run killed so used to leave its Java servers running)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def requested_backend() -> str:
    value = os.environ.get(BACKEND_VARIABLE, "auto") or "auto"
    if value not in BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE}={value!r}: use one of {', '.join(BACKENDS)}")
    return value


def run_image() -> str:
    return docker.chosen_image()


def prepare_testcontainers() -> None:
    """Settings testcontainers reads when it is first imported: no Ryuk (its image cannot
    be pulled here), and the mapped ports reached on 127.0.0.1 (this machine may itself be
    a container, where testcontainers would otherwise pick the bridge gateway)."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")


def remove_orphans() -> None:
    """Remove test containers left by runs that were killed (their pid is gone)."""
    done = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label={OWNER_LABEL}",
         "--format", f'{{{{.ID}}}} {{{{.Label "{OWNER_LABEL}"}}}}'],
        capture_output=True, text=True, timeout=60, check=False)
    for line in done.stdout.splitlines():
        ident, _, pid = line.partition(" ")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            subprocess.run(["docker", "rm", "-f", "-v", ident], capture_output=True,
                           timeout=60, check=False)


def start_container(image: str) -> RunServer:
    prepare_testcontainers()
    from testcontainers.community.neo4j import Neo4jContainer

    remove_orphans()
    password = "".join(secrets.choice(string.ascii_letters) for _ in range(24))
    container = Neo4jContainer(image=image, password=password)
    # published on 127.0.0.1 only (testcontainers' default is every interface)
    container.ports["7687"] = ("127.0.0.1", free_port())  # docker-py takes (ip, port)
    container.with_env("NEO4J_server_memory_heap_max__size", "512m")
    container.with_env("NEO4J_server_memory_pagecache_size", "512m")
    container.with_kwargs(labels={OWNER_LABEL: str(os.getpid())})
    try:
        container.start()
    except BaseException:
        container.stop()
        raise
    settings = ConnectionSettings(uri=f"bolt://127.0.0.1:{container.get_exposed_port(7687)}",
                                  password=SecretStr(password))
    short_id = container.get_wrapped_container().short_id
    return RunServer(settings, f"testcontainers, image {image}, container {short_id}, "
                                f"at {settings.uri}", container=container)


def start_java(home: Path, notify: Callable[[str], None]) -> RunServer:
    # free ports, not 7687/7474: a developer's own server may be using those
    server = ManagedServer(home=home, backend="java", bolt_port=free_port(),
                           http_port=free_port(), notify=notify)
    server.start()
    settings = server.connection_settings()
    return RunServer(settings, f"lineagraph's local Java server at {settings.uri}, home {home}",
                      managed=server)


def from_environment() -> RunServer:
    settings = ConnectionSettings(
        uri=os.environ[PREFIX + "URI"],
        username=os.environ.get(PREFIX + "USERNAME", "neo4j"),
        password=SecretStr(os.environ.get(PREFIX + "PASSWORD", "")),
        database=os.environ.get(PREFIX + "DATABASE", "neo4j"),
    )
    check_connection(settings)
    return RunServer(settings, f"the server given in {PREFIX}URI, {settings.safe_uri}")


def start_server(home: Path, notify: Callable[[str], None]) -> RunServer:
    """The run's server, by the rules in the module docstring; raises when none."""
    if os.environ.get(PREFIX + "URI"):
        return from_environment()
    backend = requested_backend()
    if backend in ("auto", "testcontainers"):
        image = run_image()
        reason = docker.unavailable_reason(image, notify, compose=False)
        if reason is None:
            try:
                return start_container(image)
            except Exception as err:
                if backend == "testcontainers":
                    raise
                reason = f"testcontainers could not start {image}: {type(err).__name__}: {err}"
        if backend == "testcontainers":
            raise RuntimeError(f"{BACKEND_VARIABLE}=testcontainers, but {reason}")
        notify(f"not using testcontainers: {reason}")
    return start_java(home, notify)
