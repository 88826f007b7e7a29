"""The image `make neo4j-image` builds keeps the official image's contract.

Each test starts its own container of ``lineagraph/neo4j:5.26-community`` on a random
127.0.0.1 port, with a random password passed through the environment of ``docker run``
(``-e NEO4J_AUTH``, never a value on its command line) or a mounted file
(``NEO4J_AUTH_PATH``), and removes it afterwards.
They carry the ``local_image`` marker: without a Docker engine or the image they are
deselected and the summary says why; with ``LINEAGRAPH_REQUIRE_DOCKER=1`` (CI) they fail
instead (conftest.py).
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import neo4j
import pytest
from neo4j.exceptions import AuthError

IMAGE = "lineagraph/neo4j:5.26-community"
NEO4J_VERSION = "5.26.30"
START_TIMEOUT = 180.0


def docker(*args: str, env: dict[str, str] | None = None, check: bool = True,
           timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {args[0]} failed: {done.stderr.strip()[-1000:]}")
    return done


pytestmark = [pytest.mark.local_image]


@pytest.fixture(scope="module")
def image() -> str:
    return IMAGE


def new_password() -> str:
    # Quotes, a backslash, a space and a hash: what an argument file could mangle.
    core = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    return f"{core} \"q\" 'q' \\ #"


class Container:
    """One container of the image; its ports are random 127.0.0.1 ports."""

    def __init__(self, image: str, env: dict[str, str], volumes: list[str]):
        self.image, self.env, self.volumes = image, env, volumes
        self.id: str | None = None

    def run(self) -> Container:
        args = ["run", "-d", "--name", f"lineagraph-image-test-{secrets.token_hex(4)}",
                "-p", "127.0.0.1::7687", "-p", "127.0.0.1::7474"]
        for name in self.env:
            args += ["-e", name]  # the value comes from docker's own environment
        for spec in self.volumes:
            args += ["-v", spec]
        self.id = docker(*args, self.image, env={**os.environ, **self.env}).stdout.strip()
        self.wait_started(after=0)
        return self

    def port(self, inside: int) -> int:
        mapped = docker("port", self.id, f"{inside}/tcp").stdout.split()[0]
        host, _, port = mapped.rpartition(":")
        assert host == "127.0.0.1", mapped
        return int(port)

    def logs(self) -> str:
        done = docker("logs", self.id, check=False)
        return done.stdout + done.stderr

    def wait_started(self, after: int) -> None:
        """Until the server has printed "Started." more than `after` times."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            logs = self.logs()
            if logs.count("Started.") > after:
                assert "Remote interface available at" in logs
                return
            if docker("inspect", "-f", "{{.State.Running}}", self.id).stdout.strip() != "true":
                raise AssertionError(f"the container stopped:\n{logs[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"no 'Started.' within {START_TIMEOUT:.0f} s:\n{self.logs()[-3000:]}")

    def driver(self, password: str | None) -> neo4j.Driver:
        auth = ("neo4j", password) if password is not None else None
        return neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{self.port(7687)}", auth=auth)

    def query(self, password: str | None, cypher: str, **params) -> list[dict]:
        with self.driver(password) as drv:
            return [r.data() for r in drv.execute_query(cypher, params).records]

    def restart(self) -> None:
        """`docker stop` (SIGTERM: a clean shutdown), then `docker start`."""
        starts, stops = self.logs().count("Started."), self.logs().count("Stopped.")
        docker("stop", "-t", "60", self.id, timeout=90)
        code = docker("inspect", "-f", "{{.State.ExitCode}}", self.id).stdout.strip()
        assert code == "0", f"Neo4j did not stop cleanly (exit code {code})"
        assert self.logs().count("Stopped.") == stops + 1
        docker("start", self.id)
        self.wait_started(after=starts)

    def remove(self) -> None:
        if self.id:
            docker("rm", "-f", "-v", self.id, check=False)
            self.id = None


@contextmanager
def container(image: str, env: dict[str, str], *volumes: str):
    box = Container(image, env, list(volumes))
    try:
        yield box.run()
    finally:
        box.remove()  # also when the start or the test failed


@contextmanager
def volume():
    """A named volume for /data, outlasting one container (owned by uid 7474 inside)."""
    name = docker("volume", "create", f"lineagraph-image-test-{secrets.token_hex(4)}"
                  ).stdout.strip()
    try:
        yield name
    finally:
        docker("volume", "rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def configured(image):
    """(container, password): NEO4J_AUTH, a transaction timeout and the heap set."""
    password = new_password()
    env = {
        "NEO4J_AUTH": f"neo4j/{password}",
        "NEO4J_db_transaction_timeout": "17s",
        "NEO4J_server_memory_heap_initial__size": "256m",
        "NEO4J_server_memory_heap_max__size": "320m",
    }
    with container(image, env) as box:
        yield box, password


def test_neo4j_auth_sets_the_password_and_the_server_is_5_26_community(configured):
    box, password = configured
    assert box.query(password, "RETURN 1 AS one") == [{"one": 1}]
    rows = box.query(password, "CALL dbms.components() YIELD name, versions, edition "
                               "RETURN name, versions, edition")
    assert rows == [{"name": "Neo4j Kernel", "versions": [NEO4J_VERSION],
                     "edition": "community"}]
    with pytest.raises(AuthError), box.driver(password + "x") as drv:
        drv.verify_connectivity()


def test_neo4j_settings_from_the_environment_take_effect(configured):
    box, password = configured
    rows = box.query(password, "SHOW SETTINGS YIELD name, value WHERE name IN $names "
                               "RETURN name, value",
                     names=["db.transaction.timeout", "server.memory.heap.max_size",
                            "server.default_listen_address"])
    assert {(r["name"], r["value"]) for r in rows} == {
        ("db.transaction.timeout", "17s"),
        ("server.memory.heap.max_size", "320.00MiB"),
        ("server.default_listen_address", "0.0.0.0"),
    }
    # The heap the JVM really has, not only the setting.
    debug = docker("exec", box.id, "cat", "/logs/debug.log").stdout
    vm_args = next(line for line in debug.splitlines() if "VM Arguments:" in line)
    assert "-Xms256m" in vm_args and "-Xmx320m" in vm_args


def test_the_password_is_on_no_command_line_and_the_browser_answers(configured):
    box, password = configured
    processes = docker("top", box.id, "-eo", "pid,args").stdout
    assert "CommunityEntryPoint" in processes
    assert password not in processes
    assert password not in docker("inspect", "-f", "{{.Args}} {{.Config.Cmd}}",
                                  box.id).stdout
    # Nor left in a file: the argument file neo4j-admin read is gone (the password goes
    # to grep on its standard input, not its command line).
    leftover = subprocess.run(
        ["docker", "exec", "-i", box.id, "grep", "-rlF", "-f", "-", "/tmp", "/var/lib/neo4j"],
        input=password + "\n", capture_output=True, text=True, timeout=60, check=False)
    assert leftover.returncode == 1 and not leftover.stdout, leftover.stdout
    page = urllib.request.urlopen(f"http://127.0.0.1:{box.port(7474)}/browser/",
                                  timeout=30).read()
    assert b"Neo4j Browser" in page


def test_neo4j_auth_none_turns_authentication_off(image):
    with container(image, {"NEO4J_AUTH": "none"}) as box:
        rows = box.query(None, "SHOW SETTINGS YIELD name, value "
                               "WHERE name = 'dbms.security.auth_enabled' RETURN value")
        assert rows == [{"value": "false"}]


def test_a_restart_keeps_the_data_and_the_first_password(image, tmp_path):
    first, second = new_password(), new_password()
    secret = tmp_path / "auth"  # the first time through NEO4J_AUTH_PATH, a mounted file
    secret.touch(mode=0o600)
    secret.write_text(f"neo4j/{first}\n")
    env = {"NEO4J_AUTH_PATH": "/run/secrets/neo4j_auth"}
    with volume() as data, container(image, env, f"{data}:/data",
                                     f"{secret}:/run/secrets/neo4j_auth:ro") as box:
        assert first not in docker("inspect", "-f", "{{.Config.Env}}", box.id).stdout
        box.query(first, "CREATE (:Kept {token: $token})", token="t1")
        box.restart()
        assert box.query(first, "MATCH (k:Kept) RETURN k.token AS token") == [
            {"token": "t1"}]
        box.remove()
        # A new container on the same /data: the password set the first time holds.
        with container(image, {"NEO4J_AUTH": f"neo4j/{second}"}, f"{data}:/data") as again:
            assert again.query(first, "MATCH (k:Kept) RETURN k.token AS token") == [
                {"token": "t1"}]
            with pytest.raises(AuthError), again.driver(second) as drv:
                drv.verify_connectivity()
            assert "the password set the first time stays" in again.logs()
