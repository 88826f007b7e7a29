"""The container paths, for real: the Docker backend (`lineagraph neo4j start`), the
compose file by hand, and the faults containers make easy (a paused Neo4j, one killed
mid-commit and started again).

They need a Docker engine with a compose tool and the Neo4j image (the official one, or
`make neo4j-image`). Where Docker is missing they are deselected and the summary says
why; with LINEAGRAPH_REQUIRE_DOCKER=1 (CI) they run and fail instead (conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from reliability import (
    check_blobs,
    count,
    fresh_store,
    session_node_count,
    start_worker,
    wait_for_event,
    wait_until_no_commit,
    wait_until_writing,
)

from lineagraph.config import ConnectionSettings
from lineagraph.connection import open_driver
from lineagraph.resources import data_path
from lineagraph.server import docker
from lineagraph.server.java import TX_LOG_RETENTION
from lineagraph.server.ports import free_port
from lineagraph.server.state import StateDir

import servers

pytestmark = [pytest.mark.containers, pytest.mark.server]


ROOT = Path(__file__).resolve().parent.parent
SIZE = 20_000
# Neo4j sends the driver a read time-out of keep_alive x probes (default 60 s x 2): a
# paused server is given up after that, then after LINEAGRAPH_RETRY_SECONDS of retries.
KEEP_ALIVE_SECONDS = 5
PAUSE_BOUND_SECONDS = 90


def cli(home: Path, *args: str, timeout: float = 400, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    full.update(LINEAGRAPH_HOME=str(home), COLUMNS="200", **env)
    return subprocess.run([sys.executable, "-m", "lineagraph.cli", *args],
                          capture_output=True, text=True, env=full, timeout=timeout)


def remove_project(home: Path) -> None:
    """Remove the containers of the managed server in ``home`` (whatever state)."""
    backend = docker.DockerBackend(StateDir(home / "neo4j"), "512m", "512m", lambda m: None)
    ident = backend.container_id()
    if ident:
        subprocess.run(["docker", "rm", "-f", "-v", ident], capture_output=True, timeout=120)


def test_auto_backend_runs_the_image_stops_and_restarts_keeping_data(tmp_path):
    home = tmp_path / "home"
    bolt, http = free_port(), free_port()
    try:
        done = cli(home, "neo4j", "start", "--bolt-port", str(bolt), "--http-port", str(http))
        assert done.returncode == 0, done.stderr
        assert "docker backend" in done.stderr and "Not using Docker" not in done.stderr
        status = json.loads(cli(home, "neo4j", "status", "--json").stdout)
        assert status["running"] and status["backend"] == "docker" and status["container"]
        assert status["version"].startswith("5.26.")
        ports = subprocess.run(["docker", "port", status["container"]], capture_output=True,
                               text=True, timeout=60).stdout
        assert f"127.0.0.1:{bolt}" in ports and "0.0.0.0" not in ports  # loopback only

        from lineagraph.server import ManagedServer
        server = ManagedServer(home=home, notify=lambda m: None)
        drv = open_driver(server.connection_settings())
        drv.execute_query("CREATE (:Survivor {name: $name})", name="kept")
        records, _, _ = drv.execute_query(  # compose.yml sets what the Java backend sets
            "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value",
            name="db.tx_log.rotation.retention_policy")
        drv.close()
        assert [r["value"] for r in records] == [TX_LOG_RETENTION]

        assert cli(home, "neo4j", "stop").returncode == 0
        stopped = cli(home, "neo4j", "status", "--json")
        assert stopped.returncode == 3 and json.loads(stopped.stdout)["running"] is False

        again = cli(home, "neo4j", "start")
        assert again.returncode == 0, again.stderr
        drv = open_driver(server.connection_settings())
        records, _, _ = drv.execute_query("MATCH (s:Survivor) RETURN s.name AS name")
        drv.close()
        assert [r["name"] for r in records] == ["kept"]
        password = server.state.password()
        for out in (done, again):
            assert password not in out.stdout + out.stderr
    finally:
        cli(home, "neo4j", "stop")
        remove_project(home)


def test_explicit_docker_with_a_missing_image_says_exactly_what_is_missing(tmp_path):
    home = tmp_path / "home"
    done = cli(home, "neo4j", "start", "--backend", "docker",
               LINEAGRAPH_NEO4J_IMAGE="lineagraph/no-such-image:0")
    assert done.returncode == 3
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --backend docker cannot work here: the image "
                           "lineagraph/no-such-image:0 is not present and cannot be pulled")
    assert "Traceback" not in done.stderr
    assert not (home / "neo4j" / "state.json").exists()


def test_a_container_that_cannot_start_falls_back_to_java_and_is_not_remembered(tmp_path):
    """An image whose container exits at once: the automatic choice tries Docker, which
    fails, and ends on the Java backend; state.json never names the failed backend."""
    home = tmp_path / "home"
    broken = f"lineagraph/exits-at-once:{os.getpid()}"
    built = subprocess.run(["docker", "build", "-q", "-t", broken, "-"],
                           input=f'FROM {docker.chosen_image()}\nENTRYPOINT ["/bin/false"]\n',
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    try:
        done = cli(home, "neo4j", "start", "--bolt-port", str(free_port()),
                   "--http-port", str(free_port()), LINEAGRAPH_NEO4J_IMAGE=broken)
        assert done.returncode == 0, done.stderr
        assert "The Docker backend did not start Neo4j" in done.stderr
        assert "Using the Java backend." in done.stderr
        state = json.loads((home / "neo4j" / "state.json").read_text())
        assert state["backend"] == "java"
        status = json.loads(cli(home, "neo4j", "status", "--json").stdout)
        assert status["running"] and status["backend"] == "java"
    finally:
        cli(home, "neo4j", "stop")
        remove_project(home)
        subprocess.run(["docker", "rmi", "-f", broken], capture_output=True, timeout=60)


def test_the_compose_file_runs_by_hand_as_its_comment_says(tmp_path):
    compose = docker.compose_command()
    assert compose is not None, "no compose tool"
    project = f"lineagraph-hand-{os.getpid()}"
    bolt, http = free_port(), free_port()
    password = "hand-started-" + os.urandom(6).hex()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(LINEAGRAPH_NEO4J_PASSWORD=password, LINEAGRAPH_BOLT_PORT=str(bolt),
               LINEAGRAPH_HTTP_PORT=str(http), LINEAGRAPH_NEO4J_DATA=str(tmp_path / "data"),
               LINEAGRAPH_NEO4J_IMAGE=docker.chosen_image())
    base = [*compose, "-p", project, "-f", str(data_path("docker/compose.yml"))]
    try:
        up = subprocess.run([*base, "up", "-d"], capture_output=True, text=True, env=env,
                            timeout=300)
        assert up.returncode == 0, up.stderr
        settings = ConnectionSettings(uri=f"bolt://127.0.0.1:{bolt}", password=SecretStr(password))
        wait_for_bolt(settings)
        drv = open_driver(settings)
        records, _, _ = drv.execute_query("RETURN 41 + 1 AS answer")
        drv.close()
        assert records[0]["answer"] == 42
    finally:
        subprocess.run([*base, "down", "-v"], capture_output=True, env=env, timeout=300)


# -- faults ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def container_server():
    """A Neo4j container of our own that these tests pause, kill and start again."""
    servers.prepare_testcontainers()
    from testcontainers.community.neo4j import Neo4jContainer

    password = "fault-" + os.urandom(9).hex()
    container = Neo4jContainer(image=docker.chosen_image(), password=password)
    # fixed across restarts, and on 127.0.0.1 only (docker-py takes an (ip, port) pair)
    container.ports["7687"] = ("127.0.0.1", free_port())
    container.with_env("NEO4J_server_bolt_connection__keep__alive", f"{KEEP_ALIVE_SECONDS}s")
    container.with_env("NEO4J_server_memory_heap_max__size", "512m")
    container.with_kwargs(labels={servers.OWNER_LABEL: str(os.getpid())})
    container.start()
    try:
        settings = ConnectionSettings(uri=f"bolt://127.0.0.1:{container.get_exposed_port(7687)}",
                                      password=SecretStr(password))
        yield container, settings
    finally:
        container.stop()


def wait_for_bolt(settings, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            drv = open_driver(settings)
            drv.verify_connectivity()
            drv.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.fixture
def fault_store(container_server, tmp_path):
    container, settings = container_server
    subprocess.run(["docker", "unpause", container.get_wrapped_container().id],
                   capture_output=True, timeout=60)
    wait_for_bolt(settings)
    db = fresh_store(settings, tmp_path / "blobs")
    yield db
    db.close()


def start_big_commit(settings, store, retry_seconds: int):
    """A worker committing SIZE nodes, returned once Neo4j shows its transaction writing."""
    proc = start_worker(settings, "commit-large", "big", str(SIZE), str(store.blobs.root),
                        LINEAGRAPH_RETRY_SECONDS=str(retry_seconds),
                        # one transaction (test_store_staging.py covers larger units)
                        LINEAGRAPH_TRANSACTION_NODES=str(2 * SIZE))
    try:
        wait_for_event(proc, "committing")
        wait_until_writing(store.driver, store.database, proc.pid)
    except BaseException:
        proc.kill()
        raise
    return proc


def docker_pause(ident: str, attempts: int = 5) -> None:
    """`docker pause`, tried again when the kernel could not freeze the container in time.

    runc gives up with "unable to freeze" when a process of the container stays in
    uninterruptible sleep (Neo4j writing to disk under load) and thaws the container
    again, so another attempt starts from a running container.
    """
    for attempt in range(attempts):
        done = subprocess.run(["docker", "pause", ident], capture_output=True, text=True,
                              timeout=60)
        if done.returncode == 0:
            return
        if "unable to freeze" not in done.stderr or attempt == attempts - 1:
            raise AssertionError(f"docker pause failed: {done.stderr.strip()}")
        time.sleep(0.5)


def test_a_paused_neo4j_gives_a_clear_error_in_bounded_time_and_nothing_half_written(
        container_server, fault_store):
    container, settings = container_server
    ident = container.get_wrapped_container().id
    proc = start_big_commit(settings, fault_store, retry_seconds=5)
    try:
        docker_pause(ident)
        paused = time.monotonic()
        out, err = proc.communicate(timeout=PAUSE_BOUND_SECONDS + 60)
        waited = time.monotonic() - paused
    finally:
        proc.kill()
        subprocess.run(["docker", "unpause", ident], capture_output=True, timeout=60)
    assert proc.returncode == 3, (out, err)
    failed = [json.loads(line) for line in out.splitlines() if '"failed"' in line]
    assert failed and "Neo4j did not answer" in failed[0]["error"], out
    assert "\n" not in failed[0]["error"]
    assert settings.password.get_secret_value() not in out + err
    assert waited < PAUSE_BOUND_SECONDS, f"the hung server was given up after {waited:.0f} s"
    # once Neo4j runs again, it rolls the abandoned transaction back: nothing of it stays
    wait_for_bolt(settings)
    driver = open_driver(settings)
    try:
        wait_until_no_commit(driver, settings.database, proc.pid)
        assert session_node_count(driver, settings.database, "big") == 0
        assert count(driver, settings.database, "MATCH (v:NodeValue) RETURN count(v)") == 0
    finally:
        driver.close()
    print(f"paused Neo4j given up after {waited:.1f} s")


def test_a_container_killed_mid_commit_and_started_again_the_commit_lands_whole(
        container_server, fault_store):
    container, settings = container_server
    ident = container.get_wrapped_container().id
    proc = start_big_commit(settings, fault_store, retry_seconds=300)
    try:
        subprocess.run(["docker", "kill", ident], check=True, capture_output=True, timeout=60)
        time.sleep(2)  # the client sees the broken connection and starts retrying
        subprocess.run(["docker", "start", ident], check=True, capture_output=True, timeout=60)
        done = wait_for_event(proc, "committed", timeout=400)
        assert proc.wait(60) == 0, proc.stderr.read()
    finally:
        proc.kill()
    assert done["nodes"] == SIZE
    wait_for_bolt(settings)
    driver = open_driver(settings)
    try:
        assert session_node_count(driver, settings.database, "big") == SIZE
    finally:
        driver.close()
    assert check_blobs(fault_store) == 39


def test_a_container_restarted_between_commits_keeps_every_whole_unit(
        container_server, fault_store):
    """`docker restart` (a clean stop and start): what was committed before is all there."""
    container, settings = container_server
    ident = container.get_wrapped_container().id
    first = start_worker(settings, "commit-large", "before", "2000", str(fault_store.blobs.root))
    wait_for_event(first, "committed", timeout=300)
    assert first.wait(60) == 0
    subprocess.run(["docker", "restart", ident], check=True, capture_output=True, timeout=180)
    wait_for_bolt(settings)
    second = start_worker(settings, "commit-large", "after", "2000", str(fault_store.blobs.root),
                          LINEAGRAPH_RETRY_SECONDS="120")
    wait_for_event(second, "committed", timeout=300)
    assert second.wait(60) == 0
    driver = open_driver(settings)
    try:
        assert session_node_count(driver, settings.database, "before") == 2000
        assert session_node_count(driver, settings.database, "after") == 2000
    finally:
        driver.close()
