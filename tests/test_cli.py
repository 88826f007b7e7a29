"""The command line as a person or a script uses it, against the real Neo4j."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import wipe
from lineagraph import GraphLineaDB
from lineagraph.cli import cli
from lineagraph.importer import import_lineapy

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"
KITCHEN = FIXTURES / "mixed_kitchen_sink"


def all_commands(group: click.Group = cli, prefix: tuple = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


def test_the_lazy_command_table_names_each_command_s_module():
    # each module, imported alone, registers exactly the commands COMMAND_MODULES gives it
    program = (
        "import importlib, json; from lineagraph.cli.app import cli, COMMAND_MODULES\n"
        "found = {}\n"
        "for module in sorted(set(COMMAND_MODULES.values())):\n"
        "    before = set(cli.commands)\n"
        "    importlib.import_module('lineagraph.cli.' + module)\n"
        "    found.update({name: module for name in set(cli.commands) - before})\n"
        "print(json.dumps([found, COMMAND_MODULES]))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    found, table = json.loads(done.stdout)
    assert found == table


def test_lineagraph_run_imports_only_the_commands_it_needs():
    program = ("import sys; from lineagraph.cli import main\n"
               "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
               "print(sorted(m for m in sys.modules if m.startswith('lineagraph.cli.')))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == str(
        ["lineagraph.cli.app", "lineagraph.cli.record", "lineagraph.cli.render"])


@pytest.mark.parametrize("path", [p for p, _ in all_commands()], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", *path, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Example:" in done.stdout and "lineagraph " + path[0] in done.stdout


def test_every_command_is_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for path, command in all_commands():
        if not isinstance(command, click.Group):
            assert "lineagraph " + " ".join(path) in readme or (
                path[0] == "neo4j" and "lineagraph neo4j" in readme), path


@pytest.fixture(scope="module")
def imported(neo4j_settings, driver, tmp_path_factory):
    """The kitchen-sink fixture imported once; the environment that reaches it."""
    home = tmp_path_factory.mktemp("cli-home")
    wipe(driver, neo4j_settings.database)
    db = GraphLineaDB(driver, database=neo4j_settings.database, blobs=home / "blobs")
    import_lineapy(db, KITCHEN / "db.sqlite")
    env = dict(os.environ, NEO4J_URI=neo4j_settings.uri,
               NEO4J_USERNAME=neo4j_settings.username,
               NEO4J_PASSWORD=neo4j_settings.password.get_secret_value(),
               NEO4J_DATABASE=neo4j_settings.database, LINEAGRAPH_HOME=str(home),
               COLUMNS="200")
    return env, home, db


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "lineagraph.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


EXPECTED = json.loads((KITCHEN / "expected.json").read_text())


def test_artifacts_lists_every_version_as_a_table_and_as_json(imported):
    env, _, _ = imported
    table = run(env, "artifacts")
    assert table.returncode == 0, table.stderr
    for art in EXPECTED["artifacts"]:
        assert art["name"] in table.stdout
    listed = json.loads(run(env, "artifacts", "--json").stdout)
    assert sorted((a["name"], a["version"]) for a in listed) == sorted(
        (a["name"], a["version"]) for a in EXPECTED["artifacts"])
    only = json.loads(run(env, "artifacts", "--name", "ks_coefs", "--json").stdout)
    assert [a["version"] for a in only] == [0, 1]
    session = EXPECTED["sessions"][0]["session_id"]
    assert len(json.loads(run(env, "artifacts", "--session", session, "--json").stdout)) == 6
    assert json.loads(run(env, "artifacts", "--session", "nope", "--json").stdout) == []


def test_artifacts_show_the_python_type_of_each_value_and_keep_lineapys(imported):
    env, _, _ = imported
    listed = json.loads(run(env, "artifacts", "--json").stdout)
    # LineaPy recorded type(value) as module.qualname in expected.json's value_type
    assert {(a["name"], a["version"]): a["python_type"] for a in listed} == {
        (a["name"], a["version"]): a["value_type"] for a in EXPECTED["artifacts"]}
    assert {(a["name"], a["version"]): a["value_type"] for a in listed} == {
        (a["name"], a["version"]): a["node_value_type"] for a in EXPECTED["artifacts"]}
    table = run(env, "artifacts").stdout
    for shown in ("list 22 B", "dict 58 B", "dict 79 B", "LinearRegression", "float 21 B"):
        assert shown in table
    assert "array" not in table and "?" not in table
    model = run(env, "artifact", "ks_model").stdout
    assert "LinearRegression (sklearn.linear_model._base.LinearRegression), 595 B" in model
    bins = run(env, "artifact", "ks_bins").stdout
    assert "list, 22 B" in bins and "LineaPy type  array" in bins


def test_artifact_shows_the_latest_version_with_its_code_line(imported):
    env, _, _ = imported
    done = run(env, "artifact", "ks_coefs", "--json")
    info = json.loads(done.stdout)
    latest = max((a for a in EXPECTED["artifacts"] if a["name"] == "ks_coefs"),
                 key=lambda a: a["version"])
    assert info["version"] == latest["version"] and info["node_id"] == latest["node_id"]
    assert info["node_type"] == latest["node_type"] and info["value_size"] > 0
    assert latest["node_location"][0] is None and info["source_line"] is None
    first = next(a for a in EXPECTED["artifacts"] if (a["name"], a["version"]) == ("ks_coefs", 0))
    script_lines = (KITCHEN / "script.py").read_text().splitlines()
    info = json.loads(run(env, "artifact", "ks_coefs", "--version", "0", "--json").stdout)
    assert info["source_line"] == script_lines[first["node_location"][0] - 1]
    people = run(env, "artifact", "ks_coefs", "--version", "0")
    assert people.returncode == 0 and "ks_coefs version 0" in people.stdout
    assert script_lines[first["node_location"][0] - 1].strip() in people.stdout


def test_value_shows_a_short_repr_or_writes_the_verified_pickle(imported, tmp_path):
    env, _, _ = imported
    art = next(a for a in EXPECTED["artifacts"] if a["name"] == "ks_ratio")
    shown = run(env, "value", "ks_ratio")
    assert shown.returncode == 0, shown.stderr
    assert art["value_repr"] in shown.stdout
    out = tmp_path / "v.pkl"
    written = run(env, "value", "ks_ratio", "-o", str(out))
    assert written.returncode == 0
    assert out.read_bytes() == (KITCHEN / "pickles" / art["pickle"]).read_bytes()


def test_a_value_without_its_library_says_to_write_it_out(imported, tmp_path):
    env, _, _ = imported
    # scikit-learn made unimportable for the command, whether or not it is installed
    hidden = tmp_path / "no-sklearn" / "sklearn"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('scikit-learn hidden by the test')\n")
    env = dict(env, PYTHONPATH=str(hidden.parent))
    done = run(env, "value", "ks_model")
    assert done.returncode == 1
    assert "use -o FILE" in done.stderr and "Traceback" not in done.stderr


def test_sessions_and_session(imported):
    env, _, _ = imported
    listed = json.loads(run(env, "sessions", "--json").stdout)
    assert [(s["session"]["id"], s["nodes"], s["artifacts"]) for s in listed] == [
        (EXPECTED["sessions"][0]["session_id"], 205, 6)]
    sid = listed[0]["session"]["id"]
    table = run(env, "sessions")
    assert sid in table.stdout and "205" in table.stdout
    details = json.loads(run(env, "session", sid, "--json").stdout)
    assert details["source"] == EXPECTED["sessions"][0]["session_code"]
    assert {lib["package_name"] for lib in details["libraries"]} >= {"numpy", "pandas", "sklearn"}
    assert {"SEED", "trace"} <= {v["name"] for v in details["variables"]}
    assert len(details["artifacts"]) == 6
    people = run(env, "session", sid)
    assert "Libraries:" in people.stdout and "ks_coefs v1" in people.stdout


def test_export_writes_a_session_subgraph_other_tools_can_read(imported, tmp_path):
    env, _, _ = imported
    sid = EXPECTED["sessions"][0]["session_id"]
    out = tmp_path / "s.json"
    done = run(env, "export", "--session", sid, "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    counts = EXPECTED["table_counts"]
    assert data["format"] == "lineagraph.session/1" and len(data["nodes"]) == counts["node"]
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    assert len([e for e in data["edges"] if e["type"] == "POSITIONAL_ARG"]) == \
        counts["positional_arg"]


@pytest.mark.parametrize("args, code, message", [
    (("artifact", "no-such-thing"), 4, "error: artifact 'no-such-thing' not found"),
    (("artifact", "ks_coefs", "--version", "7"), 4, "error: artifact 'ks_coefs' version 7 not found"),
    (("session", "no-such-session"), 4, "error: session 'no-such-session' not found"),
    (("delete", "no-such-thing", "--version", "all"), 4, "error: artifact 'no-such-thing' not found"),
])
def test_errors_are_one_line_with_meaningful_exit_codes(imported, args, code, message):
    env, _, _ = imported
    done = run(env, *args)
    assert done.returncode == code
    assert done.stderr.strip() == message


def test_a_bad_version_is_a_usage_error(imported):
    env, _, _ = imported
    done = run(env, "artifact", "ks_coefs", "--version", "x")
    assert done.returncode == 2 and "Invalid value for '--version'" in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(imported):
    env, _, _ = imported
    done = run(env, "--debug", "artifact", "no-such-thing")
    assert done.returncode != 0 and "Traceback" in done.stderr


@pytest.mark.parametrize("args", [("artifact", "no-such-thing", "--debug"),
                                  ("artifact", "--debug", "no-such-thing")])
def test_debug_works_after_the_command_too(imported, args):
    env, _, _ = imported
    done = run(env, *args)
    assert done.returncode == 4  # still the exit code that says what failed
    assert "Traceback" in done.stderr and "NotFoundError" in done.stderr


def test_after_a_double_dash_debug_is_an_argument_not_the_option(imported):
    env, _, _ = imported
    done = run(env, "slice", "--", "--debug")
    assert (done.returncode, done.stderr.strip()) == (4, "error: artifact '--debug' not found")


def test_help_lists_debug_once():
    done = subprocess.run([sys.executable, "-m", "lineagraph.cli", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert [line.split()[0] for line in done.stdout.splitlines()
            if line.strip().startswith("--debug")] == ["--debug"]


def test_a_blob_changed_on_disk_is_refused(imported):
    env, home, db = imported
    art = next(a for a in EXPECTED["artifacts"] if a["name"] == "ks_bins")
    key = db.get_node_value_path(art["node_id"], art["execution_id"])
    path = db.blobs.path(key)
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        done = run(env, "value", "ks_bins")
        assert done.returncode == 6 and key in done.stderr and "Traceback" not in done.stderr
        assert run(env, "value", "ks_bins", "-o", str(home / "x.pkl")).returncode == 6
    finally:
        path.write_bytes(original)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == key


def test_shell_completion_completes_commands(tmp_path):
    script = subprocess.run([sys.executable, "-m", "lineagraph.cli", "completion", "bash"],
                            capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_LINEAGRAPH_COMPLETE" in script.stdout
    env = dict(os.environ, _LINEAGRAPH_COMPLETE="bash_complete", COMP_WORDS="lineagraph art",
               COMP_CWORD="1")
    done = subprocess.run([sys.executable, "-c", "from lineagraph.cli import main; main()"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert "artifacts" in done.stdout and "artifact" in done.stdout


def test_lineage_impact_and_uses(imported):
    env, _, db = imported
    from lineagraph import lineage

    up = json.loads(run(env, "lineage", "ks_ratio", "--json").stdout)
    assert {n["id"] for n in up} == {n.id for n in lineage.upstream(db, artifact="ks_ratio")}
    near = json.loads(run(env, "lineage", "ks_ratio", "--depth", "1", "--json").stdout)
    assert near and all(n["distance"] == 1 for n in near) and len(near) < len(up)
    table = run(env, "lineage", "ks_ratio", "--depth", "2")
    assert table.returncode == 0 and "upstream of ks_ratio within 2 step(s)" in table.stdout
    literal = next(n for n in up if n["node_type"] == "LiteralNode")
    down = json.loads(run(env, "lineage", "--node", literal["id"], "--downstream",
                          "--json").stdout)
    assert down and all(n["id"] != literal["id"] for n in down)
    hit = json.loads(run(env, "impact", literal["id"], "--json").stdout)
    assert ("ks_ratio", 0) in {(a["name"], a["version"]) for a in hit}
    uses = json.loads(run(env, "uses", "numpy", "--json").stdout)
    assert uses["sessions"] == [EXPECTED["sessions"][0]["session_id"]]
    assert run(env, "lineage").returncode == 2
    assert run(env, "lineage", "ks_ratio", "--depth", "-1").returncode == 2


def test_slice_prints_lineapys_slice(imported, tmp_path):
    import ast

    env, _, _ = imported
    for art in EXPECTED["artifacts"]:
        if art["name"] != "ks_coefs":
            continue
        done = run(env, "slice", "ks_coefs", "--version", str(art["version"]))
        assert done.returncode == 0, done.stderr
        assert ast.dump(ast.parse(done.stdout)) == ast.dump(ast.parse(art["program_slice"]))
    out = tmp_path / "s.py"
    kept = run(env, "slice", "ks_ratio", "--keep-save", "-o", str(out))
    assert kept.returncode == 0 and "Wrote the slice of ks_ratio" in kept.stdout
    ratio = next(a for a in EXPECTED["artifacts"] if a["name"] == "ks_ratio")
    assert ast.dump(ast.parse(out.read_text())) == ast.dump(ast.parse(
        ratio["program_slice_keep_lineapy_save"]))
    assert run(env, "slice", "no-such-thing").returncode == 4


def test_export_of_a_slice_is_its_code_and_subgraph(imported, tmp_path):
    import ast

    env, _, _ = imported
    out = tmp_path / "slice.json"
    done = run(env, "export", "--artifact", "ks_ratio", "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    ratio = next(a for a in EXPECTED["artifacts"] if a["name"] == "ks_ratio")
    assert data["format"] == "lineagraph.slice/1"
    wanted = ratio["program_slice_node_ids"]
    wanted = ast.literal_eval(wanted) if isinstance(wanted, str) else wanted
    assert {n["id"] for n in data["nodes"]} == set(wanted)
    assert ast.dump(ast.parse(data["code"])) == ast.dump(ast.parse(ratio["program_slice"]))
    ids = {n["id"] for n in data["nodes"]}
    assert data["edges"] and all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    assert run(env, "export").returncode == 2


def test_session_kinds_are_named_not_numbered(imported):
    env, _, _ = imported
    sid = EXPECTED["sessions"][0]["session_id"]
    assert json.loads(run(env, "session", sid, "--json").stdout)["session"]["environment_type"] \
        == "SCRIPT"
    assert json.loads(run(env, "sessions", "--json").stdout)[0]["session"]["environment_type"] \
        == "SCRIPT"
    assert "(SCRIPT, Python" in run(env, "session", sid).stdout
