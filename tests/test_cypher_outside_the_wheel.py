"""Test and benchmark Cypher lives under tests/cypher/ and benchmarks/cypher/: it runs
on the server like the shipped queries, and it is not in the wheel, which still holds
every query the package loads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lineagraph.queries import load_queries, queries

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = {"tests": ROOT / "tests" / "cypher", "benchmarks": ROOT / "benchmarks" / "cypher"}
OUTSIDE_QUERIES = [q for root in OUTSIDE.values() for q in load_queries(root)]


def test_the_wipe_and_the_benchmark_floor_are_outside_the_shipped_library():
    names = {q.name for q in OUTSIDE_QUERIES}
    assert {"admin.wipe_data", "admin.drop_constraint", "benchmarks.floor_nodes",
            "slicing.bench_await_indexes"} <= names
    assert not names & set(queries().names())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    return zipfile.ZipFile(next(out.glob("lineagraph-*.whl")))


def test_the_wheel_holds_no_test_or_benchmark_cypher(wheel):
    names = wheel.namelist()
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))
                or "/tests/" in n or "/benchmarks/" in n]
    shipped = "".join(wheel.read(n).decode() for n in names if n.endswith(".cypher"))
    for query in OUTSIDE_QUERIES:
        short = query.name.rsplit(".", 1)[1]
        assert f"// name: {short}\n" not in shipped, query.name


def test_the_wheel_holds_every_query_the_package_loads(wheel, tmp_path):
    for name in wheel.namelist():
        if name.startswith("lineagraph/_data/cypher/"):
            wheel.extract(name, tmp_path)
    from_wheel = load_queries(tmp_path / "lineagraph" / "_data" / "cypher")
    assert from_wheel.names() == queries().names()
    assert "lineagraph/_data/cypher/browser/style.grass" in wheel.namelist()


@pytest.mark.parametrize("query", OUTSIDE_QUERIES, ids=lambda q: q.name)
def test_every_test_and_benchmark_query_compiles_on_the_server(empty_db, neo4j_settings, query):
    params = {name: None for name in query.params}
    with empty_db.session(database=neo4j_settings.database) as session:
        session.run("EXPLAIN " + query.text, params).consume()
