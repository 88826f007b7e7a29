"""Credentials stay secret (logs, error messages, tracebacks, command lines), the server
wants a password, and the docs say plainly that loading a value runs code."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import neo4j
import pytest
from pydantic import SecretStr

from lineagraph import GraphLineaDB
from lineagraph.config import ConnectionSettings
from lineagraph.connection import check_connection, open_driver
from lineagraph.environment import resolve_settings
from lineagraph.errors import LineagraphError, StoreUnavailableError

ROOT = Path(__file__).resolve().parent.parent
WRONG = "Wr0ng-But-Unique-Password-7c1f"
# Wrong passwords go with made-up user names: Neo4j locks a user out for a few seconds
# after three failed logins in a row, and other tests log in as the real user.
INTRUDERS = iter(f"intruder{i}" for i in range(1000))


def chain(err: BaseException) -> str:
    """Everything an exception and the ones a traceback shows behind it would show."""
    parts = []
    while err is not None:
        parts += [str(err), repr(err), *map(str, getattr(err, "args", ()))]
        err = err.__cause__ or (None if err.__suppress_context__ else err.__context__)
    return "\n".join(parts)


def test_no_log_record_or_error_message_carries_a_password(neo4j_settings, caplog, tmp_path):
    real = neo4j_settings.password.get_secret_value()
    caplog.set_level(logging.DEBUG)  # the driver logs every Bolt message at DEBUG
    db = GraphLineaDB(open_driver(neo4j_settings), database=neo4j_settings.database,
                      blobs=tmp_path / "blobs", owns_driver=True)
    db.get_all_artifacts()
    db.close()
    wrong = neo4j_settings.model_copy(update={"password": SecretStr(WRONG),
                                              "username": next(INTRUDERS)})
    with pytest.raises(StoreUnavailableError) as refused:
        check_connection(wrong)
    assert "refused the credentials" in str(refused.value)
    with_userinfo = ConnectionSettings(uri=f"bolt://neo4j:{WRONG}@127.0.0.1:1",
                                       password=SecretStr(WRONG))
    with pytest.raises(LineagraphError) as unreachable:
        check_connection(with_userinfo)
    slashed = ConnectionSettings(uri=f"neo4j://neo4j:{WRONG}/x@127.0.0.1:1",
                                 password=SecretStr("other"))
    with pytest.raises(LineagraphError) as slashed_err:
        check_connection(slashed)
    for refused_uri in (unreachable.value, slashed_err.value):
        assert "carries a user name or password" in str(refused_uri)
    assert WRONG not in chain(slashed_err.value) + repr(slashed) + str(slashed)
    logged = caplog.text
    assert "HELLO" in logged or "LOGON" in logged  # the driver did log its handshake
    for secret in (real, WRONG):
        assert secret not in logged
        assert secret not in chain(refused.value) + chain(unreachable.value)
        assert secret not in repr(wrong) + str(wrong) + repr(with_userinfo) + str(with_userinfo)


def test_the_command_line_shows_no_password_even_with_debug_tracebacks(neo4j_settings,
                                                                      tmp_path):
    env = {**os.environ, "NEO4J_URI": neo4j_settings.uri, "NEO4J_PASSWORD": WRONG,
           "LINEAGRAPH_HOME": str(tmp_path)}
    for args in (["--debug", "info"], ["info"], ["--debug", "artifacts", "--json"]):
        env["NEO4J_USERNAME"] = next(INTRUDERS)
        done = subprocess.run([sys.executable, "-m", "lineagraph.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, done.stderr
        assert WRONG not in done.stdout + done.stderr
        assert "refused the credentials" in done.stderr


def test_the_server_refuses_connections_without_the_password(neo4j_settings):
    for auth in (None, (next(INTRUDERS), WRONG), (next(INTRUDERS), ""),
                 (neo4j_settings.username + " ", WRONG)):
        driver = neo4j.GraphDatabase.driver(neo4j_settings.uri, auth=auth)
        try:
            with pytest.raises(neo4j.exceptions.AuthError):
                driver.verify_connectivity()
        finally:
            driver.close()


def test_a_password_is_never_taken_from_the_command_line():
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "--password", "x", "info"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "No such option" in done.stderr and "'--password'" in done.stderr


def test_settings_from_the_environment_keep_the_password_secret(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", WRONG)
    settings = resolve_settings()
    assert settings.password.get_secret_value() == WRONG
    assert WRONG not in repr(settings) + str(settings) + settings.model_dump_json()


def test_the_docs_say_that_loading_a_value_runs_code():
    readme = (ROOT / "README.md").read_text()
    reliability = (ROOT / "RELIABILITY.md").read_text()
    for text in (readme, reliability):
        assert "unpickling runs code" in text.lower()
    help_text = subprocess.run([sys.executable, "-m", "lineagraph.cli", "value", "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    assert "runs code" in help_text
