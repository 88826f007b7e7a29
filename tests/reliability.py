"""Shared helpers of the reliability tests: start workers, watch their transactions in
Neo4j, and check what a crash left behind."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from workers import settings_env

from lineagraph import GraphLineaDB
from lineagraph.config import ConnectionSettings
from lineagraph.connection import open_driver
from lineagraph.queries import load_queries

WORKERS = Path(__file__).resolve().parent / "workers.py"
TEST_QUERIES = load_queries(Path(__file__).resolve().parent / "cypher")  # not in the wheel


def start_worker(settings: ConnectionSettings, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKERS), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**settings_env(settings), **env})


def run_worker(settings: ConnectionSettings, *args: str, timeout: float = 600,
               **env: str) -> tuple[int, list[dict], str]:
    done = subprocess.run([sys.executable, str(WORKERS), *args], capture_output=True,
                          text=True, timeout=timeout, env={**settings_env(settings), **env})
    return done.returncode, events(done.stdout), done.stderr


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def wait_for_event(proc: subprocess.Popen, name: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"worker ended before {name!r}: {proc.stderr.read()[-2000:]}")
        if line.startswith("{") and json.loads(line)["event"] == name:
            return json.loads(line)
    raise AssertionError(f"no {name!r} from the worker within {timeout} s")


def running_commits(driver, database: str, pid: int) -> list[dict]:
    records, _, _ = driver.execute_query(TEST_QUERIES["admin.running_commits"].text,
                                         database_=database)
    return [r.data() for r in records if r["pid"] == pid]


# the statements that write lineage nodes and their dependencies (cypher/store/write.cypher)
NODE_WRITES = ("CREATE (n:Node", "MERGE (n:Node", "CREATE (a)-[r:")


def wait_until_writing(driver, database: str, pid: int, timeout: float = 300) -> str:
    """Wait until process ``pid`` is inside its commit transaction writing lineage nodes
    or their dependencies (so such rows are written but not committed); return the
    statement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tx in running_commits(driver, database, pid):
            query = tx["query"] or ""
            if any(marker in query for marker in NODE_WRITES):
                return query
        time.sleep(0.01)
    raise AssertionError(f"process {pid} was never seen writing inside a commit")


def wait_until_no_commit(driver, database: str, pid: int, timeout: float = 120) -> None:
    """A dead client's transaction is rolled back once Neo4j notices the dead socket."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running_commits(driver, database, pid):
            return
        time.sleep(0.1)
    raise AssertionError(f"the transaction of dead process {pid} is still open")


def count(driver, database: str, cypher: str, **params) -> int:
    records, _, _ = driver.execute_query(cypher, params, database_=database)
    return records[0][0]


def session_node_count(driver, database: str, sid: str) -> int:
    return count(driver, database, "MATCH (n:Node) WHERE n.session_id = $sid "
                 "AND n.id IS NOT NULL RETURN count(n)", sid=sid)


def check_blobs(store: GraphLineaDB) -> int:
    """Every blob a value points at exists and hashes to its key; return how many."""
    records, _, _ = store.driver.execute_query("MATCH (v:NodeValue) RETURN v.value AS key",
                                               database_=store.database)
    keys = {r["key"] for r in records}
    broken = sorted(k for k in keys if not store.blobs.verify(k))
    assert not broken, f"values point at missing or changed blobs: {broken[:5]}"
    return len(keys)


def fresh_store(settings: ConnectionSettings, blobs) -> GraphLineaDB:
    """A store on the emptied database of ``settings`` (schema applied), owning its driver."""
    from conftest import wipe

    driver = open_driver(settings)
    wipe(driver, settings.database)
    db = GraphLineaDB(driver, database=settings.database, blobs=blobs, owns_driver=True)
    db.ensure_schema()
    return db
