"""`lineagraph browser`: the URL, login facts and style sheet for Neo4j Browser, run as a
person runs it, against a real managed server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from lineagraph.mapping import NODE_LABELS

STYLE = Path(__file__).resolve().parent.parent / "cypher" / "browser" / "style.grass"


def run(*args, env):
    env = dict(env, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "lineagraph.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(extra)
    return env


def test_it_gives_the_managed_servers_browser_url_and_never_the_password(managed_server):
    status = managed_server.status()
    password = managed_server.state.password()
    done = run("--home", str(managed_server.home), "browser", "--json", env=clean_env())
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    bolt_port = status.bolt_uri.rsplit(":", 1)[1]
    assert info["browser_url"] == (f"{status.http_uri}/browser/?dbms=bolt://neo4j@127.0.0.1:"
                                   f"{bolt_port}&db=neo4j")
    assert info["connect_url"] == status.bolt_uri and info["user"] == "neo4j"
    assert status.password_file in info["password_hint"]
    assert "lineagraph neo4j password" in info["password_hint"]
    text = run("--home", str(managed_server.home), "browser", env=clean_env())
    assert text.returncode == 0 and info["browser_url"] in text.stdout
    assert "lineagraph browser --style" in text.stdout
    for out in (done, text):
        assert password not in out.stdout + out.stderr


def test_open_hands_the_url_to_the_web_browser(managed_server, tmp_path):
    seen = tmp_path / "opened"
    fake = tmp_path / "fake-browser"
    fake.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > {seen}\n")
    fake.chmod(0o755)
    done = run("--home", str(managed_server.home), "browser", "--open",
               env=clean_env(BROWSER=str(fake)))
    assert done.returncode == 0, done.stderr
    assert seen.read_text() in done.stdout and "/browser/?dbms=" in seen.read_text()


def test_a_stopped_server_is_one_line_and_exit_3(tmp_path):
    done = run("--home", str(tmp_path), "browser", env=clean_env())
    assert done.returncode == 3
    assert done.stderr.strip() == ("error: the local Neo4j is not running: start it with "
                                   "`lineagraph neo4j start` (or set NEO4J_URI)")


def test_a_server_of_yours_gets_its_address_but_no_made_up_url(tmp_path):
    env = clean_env(NEO4J_URI="neo4j+s://alice:hunter22@xxxx.databases.neo4j.io",
                    NEO4J_PASSWORD="s3cret-pass")
    done = run("--home", str(tmp_path), "browser", "--json", env=env)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["browser_url"] is None
    assert info["connect_url"] == "neo4j+s://***@xxxx.databases.neo4j.io"
    assert "hunter22" not in done.stdout and "s3cret-pass" not in done.stdout
    opened = run("--home", str(tmp_path), "browser", "--open", env=env)
    assert opened.returncode == 2 and "Browser URL of that server is unknown" in opened.stderr


def test_style_prints_the_style_command_with_a_colour_and_caption_per_label():
    done = run("browser", "--style", env=clean_env())
    assert done.returncode == 0
    assert done.stdout == ":style\n" + STYLE.read_text().strip() + "\n"
    rules = dict(re.findall(r"node\.(\w+) \{(.*?)\n\}", STYLE.read_text(), re.S))
    labels = set(NODE_LABELS.values()) | {"Node", "Session", "Execution", "SourceCode",
                                          "Artifact", "NodeValue"}
    for label in labels:
        assert "color: #" in rules[label] and "caption: '{caption}'" in rules[label], label
