"""Connecting with the standard NEO4J_* settings, and failing clearly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from lineagraph.config import ConnectionSettings
from lineagraph.connection import check_connection, resolve_settings
from lineagraph.errors import ConfigurationError, StoreUnavailableError
from lineagraph.server.ports import free_port


def run_cli(*args, env_extra=None, env_drop=()):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lineagraph.cli", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_a_wrong_password_gives_a_clear_error_without_the_password(neo4j_settings):
    wrong = ConnectionSettings(
        uri=neo4j_settings.uri, username=neo4j_settings.username,
        password=SecretStr("not-the-password-123"),
    )
    with pytest.raises(StoreUnavailableError) as caught:
        check_connection(wrong)
    assert "refused the credentials" in str(caught.value)
    assert "not-the-password-123" not in str(caught.value)


def test_the_cli_reports_a_wrong_password_in_one_line(neo4j_settings):
    done = run_cli("info", env_extra={
        "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": "wrong-password-456"})
    assert done.returncode == 3
    assert "refused the credentials" in done.stderr
    assert "Traceback" not in done.stderr
    assert "wrong-password-456" not in done.stderr + done.stdout


def test_a_closed_port_exits_non_zero_with_one_line_and_no_traceback():
    port = free_port()
    done = run_cli("info", env_extra={
        "NEO4J_URI": f"bolt://127.0.0.1:{port}", "NEO4J_PASSWORD": "whatever-789"})
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"cannot reach Neo4j at bolt://127.0.0.1:{port}" in lines[0]
    assert "Traceback" not in done.stderr


def test_info_connects_through_neo4j_variables(neo4j_settings):
    done = run_cli("info", "--json", env_extra={
        "NEO4J_URI": neo4j_settings.uri,
        "NEO4J_USERNAME": neo4j_settings.username,
        "NEO4J_PASSWORD": neo4j_settings.password.get_secret_value()})
    assert done.returncode == 0, done.stderr
    assert '"edition": "community"' in done.stdout
    assert neo4j_settings.password.get_secret_value() not in done.stdout + done.stderr


@pytest.mark.parametrize("uri", ["bolt://127.0.0.1:1", "neo4j://127.0.0.1:1",
                                 "neo4j+s://example.invalid:7687", "bolt+ssc://h:1"])
def test_every_driver_scheme_is_accepted(uri):
    settings = resolve_settings(uri=uri, password="x" * 12)
    assert settings.uri == uri and settings.username == "neo4j"


def test_a_malformed_uri_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as caught:
        check_connection(resolve_settings(uri="ftp://127.0.0.1:7687", password="x" * 12))
    assert "ftp://127.0.0.1:7687" in str(caught.value)


def test_a_uri_without_a_password_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with pytest.raises(ConfigurationError, match="NEO4J_PASSWORD"):
        resolve_settings(uri="bolt://127.0.0.1:7687")


def test_settings_never_show_the_password():
    settings = resolve_settings(uri="bolt://h:1", password="secret-value-12")
    assert "secret-value-12" not in repr(settings) + str(settings)


@pytest.mark.parametrize("uri, says", [
    ("http://127.0.0.1:7474", "http:// is Neo4j's HTTP port (Browser); lineagraph speaks Bolt: "
                              "use bolt://127.0.0.1:7687"),
    ("https://xxxx.databases.neo4j.io", "lineagraph speaks Bolt: use neo4j+s://xxxx.databases.neo4j.io"),
    ("127.0.0.1:7687", "'127.0.0.1:7687' has no scheme: use bolt://127.0.0.1:7687"),
    ("neo4j:pw-in-the-uri-654@db.example:7687", "'***@db.example:7687' has no scheme"),
    ("ftp://127.0.0.1:7687", "ftp:// is not a Bolt scheme; use bolt://, bolt+s://"),
])
def test_a_uri_that_is_not_bolt_is_one_line_saying_what_to_use(uri, says):
    done = run_cli("info", env_extra={"NEO4J_URI": uri, "NEO4J_PASSWORD": "pw-never-shown-321"})
    assert done.returncode == ConfigurationError.exit_code
    assert done.stderr.splitlines() == [f"error: {done.stderr.splitlines()[0][7:]}"]
    assert says in done.stderr
    assert "pw-never-shown-321" not in done.stderr and "pw-in-the-uri-654" not in done.stderr


def test_the_library_refuses_an_http_uri_before_the_driver_sees_it(monkeypatch, tmp_path):
    from lineagraph import GraphLineaDB

    monkeypatch.setenv("NEO4J_URI", "http://127.0.0.1:7474")
    monkeypatch.setenv("NEO4J_PASSWORD", "x" * 12)
    monkeypatch.setenv("LINEAGRAPH_HOME", str(tmp_path))
    with pytest.raises(ConfigurationError, match="use bolt://127.0.0.1:7687"):
        GraphLineaDB.from_environment()


def _host_port(uri: str) -> str:
    return uri.partition("://")[2].split("/")[0]


@pytest.mark.parametrize("scheme", ["neo4j+s", "bolt+s", "neo4j+ssc", "bolt+ssc"])
def test_tls_to_a_plain_server_is_one_line_naming_the_mismatch(neo4j_settings, scheme):
    if "+" in neo4j_settings.uri.partition("://")[0]:
        pytest.skip("the test server speaks TLS")
    plain = scheme.partition("+")[0]
    where = _host_port(neo4j_settings.uri)
    done = run_cli("info", env_extra={
        "NEO4J_URI": f"{scheme}://{where}",
        "NEO4J_PASSWORD": neo4j_settings.password.get_secret_value()})
    assert done.returncode == StoreUnavailableError.exit_code
    # no stray driver log line ("Unable to retrieve routing information") before it
    assert done.stderr.splitlines() == [
        f"error: Neo4j at {scheme}://{where} did not answer TLS: the server has no encryption "
        f"on at that port; use {plain}://{where}"]
    assert neo4j_settings.password.get_secret_value() not in done.stderr + done.stdout


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_bolt_to_neo4js_http_port_says_so_in_one_line(managed_server, scheme):
    http_port = _host_port(managed_server.status().http_uri)
    done = run_cli("info", env_extra={"NEO4J_URI": f"{scheme}://{http_port}",
                                      "NEO4J_PASSWORD": "whatever-789"})
    assert done.returncode == StoreUnavailableError.exit_code
    assert done.stderr.splitlines() == [
        f"error: Neo4j at {scheme}://{http_port} answered in HTTP: that is its HTTP "
        "(Browser) port; use its Bolt port (7687 unless configured otherwise; `lineagraph "
        "neo4j status` shows the local server's)"]
