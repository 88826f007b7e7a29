"""Connecting with the standard NEO4J_* settings, and failing clearly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from conftest import unavailable
from lineagraph.config import ConnectionSettings
from lineagraph.connection import check_connection
from lineagraph.environment import resolve_settings
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
        unavailable("these tests need a plain (non-TLS) test server")
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


@pytest.fixture(scope="module")
def tls_neo4j(tmp_path_factory):
    """host:port of a real Neo4j (the Java backend's jars) that requires TLS on Bolt, with
    a self-signed certificate; authentication off (the TLS handshake comes before it)."""
    import shutil
    import time

    from lineagraph.config import cache_dir
    from lineagraph.driver_errors import _answers_tls
    from lineagraph.errors import ServerPrerequisiteError
    from lineagraph.server.java import ENTRY_POINT, JVM_FLAGS, JavaBackend, find_java

    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make the server's certificate")
    root = tmp_path_factory.mktemp("tls-neo4j")
    backend = JavaBackend(None, cache_dir(), "384m", "64m", notify=lambda m: None)
    try:
        backend.install()  # a no-op when the local server's jars are there already
        java = find_java()
    except ServerPrerequisiteError as err:
        unavailable(f"the Java Neo4j is needed: {err}")
    certs = root / "certificates"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(certs / "private.key"),
                    "-out", str(certs / "public.crt")], check=True, capture_output=True)
    port, http_port = free_port(), free_port()
    (root / "conf").mkdir()
    (root / "conf" / "neo4j.conf").write_text("\n".join([
        "server.default_listen_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{port}",
        f"server.http.listen_address=127.0.0.1:{http_port}",
        "server.https.enabled=false", "dbms.security.auth_enabled=false",
        "server.memory.heap.max_size=384m", "server.memory.pagecache.size=64m",
        f"server.directories.data={root / 'data'}", f"server.directories.logs={root / 'logs'}",
        f"server.directories.run={root / 'run'}", f"server.directories.lib={backend.lib}",
        "dbms.usage_report.enabled=false",
        "server.bolt.tls_level=REQUIRED", "dbms.ssl.policy.bolt.enabled=true",
        f"dbms.ssl.policy.bolt.base_directory={certs}", "dbms.ssl.policy.bolt.client_auth=NONE",
    ]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    with open(root / "console.log", "wb") as console:
        server = subprocess.Popen(
            [java, "-Xmx384m", *JVM_FLAGS, "-cp", f"{backend.lib}/*", ENTRY_POINT,
             f"--home-dir={root}", f"--config-dir={root / 'conf'}"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=console,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not _answers_tls("127.0.0.1", port, timeout=1.0):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the TLS Neo4j did not start: "
                            + (root / "console.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.server
@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_a_plain_uri_to_a_server_requiring_tls_says_so_in_one_line(tls_neo4j, scheme):
    done = run_cli("info", env_extra={"NEO4J_URI": f"{scheme}://{tls_neo4j}",
                                      "NEO4J_PASSWORD": "whatever-789"})
    assert done.returncode == StoreUnavailableError.exit_code
    assert done.stderr.splitlines() == [
        f"error: Neo4j at {scheme}://{tls_neo4j} requires TLS: use {scheme}+s://{tls_neo4j} "
        f"(or {scheme}+ssc://{tls_neo4j} for a self-signed certificate)"]


@pytest.mark.server
@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_a_certificate_not_trusted_says_how_to_accept_it(tls_neo4j, scheme):
    done = run_cli("info", env_extra={"NEO4J_URI": f"{scheme}+s://{tls_neo4j}",
                                      "NEO4J_PASSWORD": "whatever-789"})
    assert done.returncode == StoreUnavailableError.exit_code
    assert done.stderr.splitlines() == [
        f"error: Neo4j at {scheme}+s://{tls_neo4j} answered TLS with a certificate this "
        f"machine does not trust (self-signed certificate): use {scheme}+ssc://{tls_neo4j} "
        "to accept it without verifying, or install its CA certificate"]


@pytest.mark.server
@pytest.mark.parametrize("scheme", ["bolt+ssc", "neo4j+ssc"])
def test_tls_with_a_self_signed_certificate_works(tls_neo4j, scheme):
    done = run_cli("info", "--json", env_extra={"NEO4J_URI": f"{scheme}://{tls_neo4j}",
                                                "NEO4J_PASSWORD": "whatever-789"})
    assert done.returncode == 0, done.stderr
    assert '"edition": "community"' in done.stdout


@pytest.mark.parametrize("case", ["missing", "unreadable"])
def test_a_query_file_missing_or_unreadable_is_not_taken_for_neo4j(driver, tmp_path,
                                                                   monkeypatch, case):
    # reading cypher/ fails with an OSError, as a failing socket does: the query layer
    # must say what is wrong with the installation, not that Neo4j did not answer
    from lineagraph import queries as query_files
    from lineagraph import query, resources
    from lineagraph.errors import MissingDataError

    if case == "missing":
        where, says = (lambda relative: resources.data_path("no-such-" + relative),
                       "no-such-cypher.*reinstall lineagraph")
    else:
        (tmp_path / "cypher" / "store.cypher").mkdir(parents=True)  # a folder, not a file
        where, says = (lambda relative: tmp_path / "cypher",
                       "cannot read lineagraph's query file.*reinstall lineagraph")
    monkeypatch.setattr(query_files, "data_path", where)
    query_files.queries.cache_clear()
    try:
        with pytest.raises(MissingDataError, match=says):
            query.read_all(driver, None, "schema.schema_names")
    finally:
        query_files.queries.cache_clear()


@pytest.mark.parametrize("name, reader, raw, expected", [
    ("LINEAGRAPH_WRITE_WORKERS", "write_workers", "0", "a whole number from 1 to 32"),
    ("LINEAGRAPH_WRITE_WORKERS", "write_workers", "33", "a whole number from 1 to 32"),
    ("LINEAGRAPH_WRITE_WORKERS", "write_workers", "two", "a whole number from 1 to 32"),
    ("LINEAGRAPH_TRANSACTION_NODES", "transaction_nodes", "1e4",
     "a whole number of nodes from 1 to 10,000,000"),
    ("LINEAGRAPH_TRANSACTION_NODES", "transaction_nodes", "0",
     "a whole number of nodes from 1 to 10,000,000"),
    ("LINEAGRAPH_RETRY_SECONDS", "retry_seconds", "-1", "a number of seconds from 0 to 3600"),
    ("LINEAGRAPH_RETRY_SECONDS", "retry_seconds", "nan", "a number of seconds from 0 to 3600"),
])
def test_a_numeric_setting_out_of_range_names_the_setting_and_the_range(
        monkeypatch, name, reader, raw, expected):
    from lineagraph import config

    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigurationError) as caught:
        getattr(config, reader)()
    assert str(caught.value) == f"{name}={raw!r}: expected {expected}"


def test_numeric_settings_have_defaults_and_follow_the_environment(monkeypatch):
    from lineagraph import config

    for name in ("LINEAGRAPH_WRITE_WORKERS", "LINEAGRAPH_TRANSACTION_NODES",
                 "LINEAGRAPH_RETRY_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert (config.write_workers(), config.transaction_nodes(), config.retry_seconds()) == \
        (2, 2_500, 60.0)
    monkeypatch.setenv("LINEAGRAPH_WRITE_WORKERS", "5")
    monkeypatch.setenv("LINEAGRAPH_TRANSACTION_NODES", "20_000")
    monkeypatch.setenv("LINEAGRAPH_RETRY_SECONDS", "2.5")
    assert (config.write_workers(), config.transaction_nodes(), config.retry_seconds()) == \
        (5, 20_000, 2.5)
