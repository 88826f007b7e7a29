"""The managed local Neo4j: real servers started and stopped by these tests.

Each test that starts a server uses its own home directory; the downloaded Neo4j is
shared through the cache, so only the first start of a machine downloads anything.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lineagraph.connection import check_connection, open_driver, server_info
from lineagraph.errors import ServerPrerequisiteError
from lineagraph.server import ManagedServer
from lineagraph.server.ports import free_port
from lineagraph.server import java as java_backend

# These tests start the Java backend explicitly, so they run (not skip) where Docker runs.
JAVA = "java"
pytestmark = [pytest.mark.server]


def test_the_session_server_is_neo4j_5_26_community(driver, neo4j_settings):
    facts = server_info(driver, neo4j_settings)
    assert facts["version"].startswith("5.26.")
    assert facts["edition"] == "community"


def test_start_status_stop_round_trip_keeps_data_across_a_restart(tmp_path):
    messages: list[str] = []
    server = ManagedServer(home=tmp_path, backend=JAVA, notify=messages.append)
    assert server.status().running is False

    first = server.start()
    assert first.running and first.backend == "java" and first.pid
    assert first.version.startswith("5.26.")
    assert any("Starting the local Neo4j" in m for m in messages)
    settings = server.connection_settings()
    drv = open_driver(settings)
    try:
        facts = server_info(drv, settings)
        assert (facts["version"][:5], facts["edition"]) == ("5.26.", "community")
        drv.execute_query("CREATE (:Survivor {name: $name})", name="kept")
    finally:
        drv.close()

    again = server.start()  # starting twice is harmless
    assert again.pid == first.pid

    assert server.stop() is True
    stopped = server.status()
    assert stopped.running is False and stopped.pid is None
    assert server.stop() is False
    assert (tmp_path / "neo4j" / "data" / "databases" / "neo4j").is_dir()

    second = server.start()
    assert second.running and second.pid != first.pid
    drv = open_driver(server.connection_settings())
    try:
        records, _, _ = drv.execute_query("MATCH (s:Survivor) RETURN s.name AS name")
        assert [r["name"] for r in records] == ["kept"]
    finally:
        drv.close()
        server.stop()


def test_a_taken_port_is_avoided_and_a_stale_pid_file_is_ignored(tmp_path):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    server = ManagedServer(home=tmp_path, backend=JAVA, bolt_port=taken, notify=lambda m: None)
    # a pid file left by a crash, naming a process that no longer exists
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    server.state.create()
    server.state.write_pid(dead.pid)
    try:
        assert server.status().running is False
        status = server.start()
        assert status.bolt_uri != f"bolt://127.0.0.1:{taken}"
        check_connection(server.connection_settings())
    finally:
        squatter.close()
        server.stop()


def test_server_state_is_private_listens_on_loopback_only_and_keeps_no_old_logs(tmp_path):
    server = ManagedServer(home=tmp_path, backend=JAVA, notify=lambda m: None)
    status = server.start()
    try:
        password_file = tmp_path / "neo4j" / "password"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "neo4j").stat().st_mode) == 0o700
        password = password_file.read_text().strip()
        assert len(password) >= 12
        conf = (tmp_path / "neo4j" / "conf" / "neo4j.conf").read_text()
        assert "dbms.security.auth_enabled=true" in conf
        assert password not in conf
        cmdline = open(f"/proc/{status.pid}/cmdline", "rb").read().decode()
        assert password not in cmdline
        bolt_port = int(status.bolt_uri.rsplit(":", 1)[1])
        listening = _listening_addresses(bolt_port)
        loopback = {"0100007F", "0000000000000000FFFF00000100007F"}  # 127.0.0.1, ::ffff:127.0.0.1
        assert listening and listening <= loopback, listening
        # and no transaction logs kept beyond what recovery needs (Neo4j's default keeps
        # two days of them: large imports filled a disk)
        with open_driver(server.connection_settings()) as drv:
            records, _, _ = drv.execute_query(
                "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value",
                name="db.tx_log.rotation.retention_policy")
        assert [r["value"] for r in records] == ["false"]
    finally:
        server.stop()


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses in LISTEN state on ``port``, from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            addr, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(addr)
    return found


def test_without_docker_or_java_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("LINEAGRAPH_JAVA", raising=False)
    monkeypatch.setattr(java_backend, "JVM_ROOTS", [str(tmp_path / "no-jvm")])
    server = ManagedServer(home=tmp_path, notify=lambda m: None)
    with pytest.raises(ServerPrerequisiteError) as caught:
        server.start()
    message = str(caught.value)
    assert "Docker cannot (there is no `docker` command)" in message
    assert "Java 17" in message and "NEO4J_URI" in message


def test_a_port_taken_between_the_check_and_the_bind_is_retried_and_never_logged_in_to(
        tmp_path, monkeypatch):
    """Two homes started at once can both find a port free: the other's server binds it
    first (here a listening socket stands for it), ours exits and starts again on fresh
    ports. What listens on the taken port is never sent our password: a Neo4j there
    would count the failed logins against its own users and lock them out."""
    import lineagraph.server as server_module

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real_choose, real_check = server_module.choose_ports, server_module.check_connection
    calls, logins = [], []

    def racy_choose(preferred):  # the first answer is stale: someone took the port since
        calls.append(list(preferred))
        chosen = real_choose(preferred)
        return [taken, chosen[1]] if len(calls) == 1 else chosen

    def counted_check(settings, *args, **kwargs):
        logins.append(settings.uri)
        return real_check(settings, *args, **kwargs)

    monkeypatch.setattr(server_module, "choose_ports", racy_choose)
    monkeypatch.setattr(server_module, "check_connection", counted_check)
    messages: list[str] = []
    server = ManagedServer(home=tmp_path, backend=JAVA, notify=messages.append)
    try:
        status = server.start()
        assert len(calls) == 2 and any("retrying" in m for m in messages)
        assert status.running and status.bolt_uri != f"bolt://127.0.0.1:{taken}"
        assert logins and not [u for u in logins if u.endswith(f":{taken}")], logins
        check_connection(server.connection_settings())
    finally:
        squatter.close()
        server.stop()


def test_two_concurrent_starts_give_one_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["LINEAGRAPH_HOME"] = str(tmp_path)
    from lineagraph.server.ports import free_port

    cmd = [sys.executable, "-m", "lineagraph.cli", "neo4j", "start", "--backend", "java",
           "--bolt-port",
           str(free_port()), "--http-port", str(free_port())]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    second = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    server = ManagedServer(home=tmp_path, backend=JAVA, notify=lambda m: None)
    try:
        assert first.returncode == 0 and second.returncode == 0, outs
        assert sum("already running" in err for _, err in outs) == 1
        status = server.status()
        assert status.running
        java = [p for p in os.listdir("/proc") if p.isdigit() and _is_server_of(p, tmp_path)]
        assert java == [str(status.pid)]
    finally:
        assert server.stop() is True
    assert server.status().running is False


def _is_server_of(pid: str, home) -> bool:
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False
    return f"-Dlineagraph.home={home}/neo4j".encode() in cmdline


def _without_docker_env(tmp_path) -> dict:
    """`lineagraph` run where no `docker` command exists (PATH without it)."""
    from lineagraph.server.java import find_java

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    env.update(PATH=str(empty), LINEAGRAPH_HOME=str(tmp_path / "home"),
               LINEAGRAPH_JAVA=find_java())
    env.pop("LINEAGRAPH_NEO4J_BACKEND", None)
    return env


def test_auto_without_docker_uses_java_saying_why_in_one_line(tmp_path):
    env = _without_docker_env(tmp_path)
    cmd = [sys.executable, "-m", "lineagraph.cli", "neo4j"]
    try:
        done = subprocess.run([*cmd, "start", "--bolt-port", str(free_port()),
                               "--http-port", str(free_port())],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        notes = [line for line in done.stderr.splitlines() if "Not using Docker" in line]
        assert notes == ["Not using Docker: there is no `docker` command. Using the Java "
                         "backend."]
        state = (tmp_path / "home" / "neo4j" / "state.json").read_text()
        assert '"backend": "java"' in state
    finally:
        subprocess.run([*cmd, "stop"], capture_output=True, env=env, timeout=120)


def test_explicit_docker_without_docker_says_what_is_missing_and_remembers_nothing(tmp_path):
    env = _without_docker_env(tmp_path)
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "neo4j", "start",
                           "--backend", "docker"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == (
        "error: --backend docker cannot work here: there is no `docker` command")
    assert not (tmp_path / "home" / "neo4j" / "state.json").exists()


def test_a_data_directory_made_with_another_password_is_named_as_such(tmp_path):
    from lineagraph.errors import ServerError

    server = ManagedServer(home=tmp_path, backend=JAVA, bolt_port=free_port(),
                           http_port=free_port(), notify=lambda m: None)
    server.start()
    server.stop()
    server.state.password_file.write_text("a-different-password-123\n")
    try:
        with pytest.raises(ServerError) as caught:
            server.start(timeout=120)
    finally:
        server.stop()
    assert "refuses the password in" in str(caught.value)
    assert "created with another password" in str(caught.value)
    assert "a-different-password-123" not in str(caught.value)


def test_a_test_run_ended_by_sigterm_stops_the_server_it_started(tmp_path):
    """`kill` of a pytest run (SIGTERM) stops the Java server the run started for itself
    (tests/servers.py stop_servers_on_sigterm); it used to outlive the run."""
    started = tmp_path / "started"
    (tmp_path / "test_waits.py").write_text(
        "import pathlib, time\n\n\n"
        "def test_waits():\n"
        f"    pathlib.Path({str(started)!r}).write_text('waiting')\n"
        "    time.sleep(600)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGRAPH_TEST_")}
    env.update(LINEAGRAPH_TEST_BACKEND="java",
               PYTHONPATH=os.pathsep.join(filter(None, [os.path.dirname(__file__),
                                                        env.get("PYTHONPATH")])))
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "conftest",
             "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "base"),
             str(tmp_path / "test_waits.py")],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not started.exists():
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        home = re.search(r"local Java server at \S+, home (\S+)", log.read_text()).group(1)
        pid = int((Path(home) / "neo4j" / "run" / "lineagraph.pid").read_text())
        assert _alive(pid)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) != 0  # interrupted, as by Ctrl-C
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _alive(pid), log.read_text()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
