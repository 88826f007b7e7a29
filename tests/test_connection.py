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
