"""The Java backend: Neo4j 5.26 Community assembled from Maven Central, run on Java 17.

The Maven project ``docker/java/pom.xml`` resolves the server, its HTTP module and Neo4j
Browser into ``<LINEAGRAPH_CACHE>/neo4j-<version>/lib`` once; every start then runs the
server's own entry point, ``org.neo4j.server.CommunityEntryPoint``, on that classpath.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ..errors import ServerError, ServerPrerequisiteError
from ..resources import data_path
from .state import StateDir

NEO4J_VERSION = "5.26.30"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"
SUPPORTED_JAVA = (17, 21)
JVM_ROOTS = ["/usr/lib/jvm", "/Library/Java/JavaVirtualMachines"]  # the Java versions Neo4j 5.26 supports
# Neo4j keeps transaction logs for two days by default, for backups and cluster members
# this store has neither of: 1M-node imports and benchmarks then piled up 63 GB of them.
# "false" keeps only the newest non-empty log file besides what recovery after a crash
# needs (everything since the last checkpoint, which Neo4j never prunes). The Docker
# backend's docker/compose.yml sets the same.
TX_LOG_RETENTION = "false"

# What Neo4j's own launcher passes to the JVM (server.jvm.additional in its default
# neo4j.conf), less what only matters for production tuning.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
]


def java_major(java: str) -> int | None:
    """The major version of a ``java`` executable, or None if it does not run."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java() -> str:
    """A Java 17 or 21 executable: ``LINEAGRAPH_JAVA``, ``JAVA_HOME``, PATH, /usr/lib/jvm."""
    candidates: list[str] = []
    if os.environ.get("LINEAGRAPH_JAVA"):
        candidates.append(os.environ["LINEAGRAPH_JAVA"])
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for jvm_root in map(Path, JVM_ROOTS):
        if jvm_root.is_dir():
            candidates += sorted(str(p / "bin" / "java") for p in jvm_root.iterdir())
    seen: list[str] = []
    for candidate in candidates:
        if candidate in seen or not Path(candidate).exists():
            continue
        seen.append(candidate)
        if java_major(candidate) in SUPPORTED_JAVA:
            return candidate
    raise ServerPrerequisiteError(
        "no Java 17 or 21 found (looked at LINEAGRAPH_JAVA, JAVA_HOME, PATH, /usr/lib/jvm"
        + (f"; found only {', '.join(seen)}" if seen else "")
        + "). Install a JDK 17 (e.g. `apt-get install openjdk-17-jre-headless`), "
        "or run Docker, or point NEO4J_URI at a Neo4j 5 server you already have."
    )


def find_maven() -> str:
    mvn = os.environ.get("LINEAGRAPH_MVN") or shutil.which("mvn")
    if not mvn:
        raise ServerPrerequisiteError(
            "Maven is needed once, to download Neo4j from Maven Central, and `mvn` is not "
            "on PATH. Install it (e.g. `apt-get install maven`), or run Docker, or point "
            "NEO4J_URI at a Neo4j 5 server you already have."
        )
    return mvn


class JavaBackend:
    name = "java"
    version = NEO4J_VERSION

    def __init__(self, state: StateDir, cache: Path, heap: str, pagecache: str, notify):
        self.state = state
        self.lib = Path(cache) / f"neo4j-{NEO4J_VERSION}" / "lib"
        self.heap = heap
        self.pagecache = pagecache
        self.notify = notify

    # -- installation -----------------------------------------------------------
    def installed(self) -> bool:
        return (self.lib / ".complete").exists()

    def install(self) -> None:
        """Resolve the server from Maven Central into the cache (first run only)."""
        if self.installed():
            return
        mvn = find_maven()
        find_java()  # fail early, before a long download, when Java is missing
        pom = data_path("docker/java/pom.xml")
        staging = self.lib.with_name(f"lib.partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        self.notify(
            f"Downloading Neo4j {NEO4J_VERSION} Community and Neo4j Browser from Maven "
            f"Central into {self.lib.parent} (first run only, about 140 MB)..."
        )
        log = staging.parent / "maven.log"
        started = time.monotonic()
        with open(log, "w", encoding="utf-8") as out:
            done = subprocess.run(
                [mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
                 f"-DoutputDirectory={staging}"],
                stdout=out, stderr=subprocess.STDOUT, check=False,
            )
        if done.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            shutil.rmtree(staging, ignore_errors=True)
            raise ServerError(f"Maven could not download Neo4j (see {log}):\n{tail}")
        (staging / ".complete").write_text(NEO4J_VERSION)
        shutil.rmtree(self.lib, ignore_errors=True)
        staging.replace(self.lib)
        self.notify(f"Downloaded in {time.monotonic() - started:.0f} s.")

    # -- configuration ------------------------------------------------------------
    def write_config(self, bolt_port: int, http_port: int) -> None:
        s = self.state
        lines = [
            "# Written by lineagraph at every start; edit LINEAGRAPH_* settings instead.",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{bolt_port}",
            f"server.bolt.advertised_address=127.0.0.1:{bolt_port}",
            f"server.http.listen_address=127.0.0.1:{http_port}",
            f"server.http.advertised_address=127.0.0.1:{http_port}",
            "server.https.enabled=false",
            "dbms.security.auth_enabled=true",
            f"server.memory.heap.initial_size={self.heap}",
            f"server.memory.heap.max_size={self.heap}",
            f"server.memory.pagecache.size={self.pagecache}",
            f"server.directories.data={s.data}",
            f"server.directories.logs={s.logs}",
            f"server.directories.run={s.run}",
            f"server.directories.lib={self.lib}",
            "dbms.usage_report.enabled=false",
            f"db.tx_log.rotation.retention_policy={TX_LOG_RETENTION}",
        ]
        (s.conf / "neo4j.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.state.root)
        env["NEO4J_CONF"] = str(self.state.conf)
        for var in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
            env.pop(var, None)  # our client settings are no business of the server's
        return env

    def set_initial_password(self, java: str) -> None:
        """Set the password before the very first start, from the 0600 file.

        neo4j-admin reads its arguments from ``@file`` (picocli), so the password is
        never on a command line.
        """
        if (self.state.data / "dbms" / "auth.ini").exists() or (
            self.state.data / "databases" / "system"
        ).exists():
            return
        done = subprocess.run(
            [java, "-cp", f"{self.lib}/*", ADMIN_ENTRY_POINT, "dbms",
             "set-initial-password", f"@{self.state.password_file}"],
            env=self._env(), capture_output=True, text=True, check=False, timeout=300,
        )
        if done.returncode != 0:
            raise ServerError(
                "neo4j-admin could not set the initial password: "
                + (done.stderr or done.stdout).strip()[-1000:]
            )

    # -- process ------------------------------------------------------------------
    def launch(self) -> int:
        java = find_java()
        self.set_initial_password(java)
        console = open(self.state.logs / "console.log", "ab")
        cmd = [java, f"-Xms{self.heap}", f"-Xmx{self.heap}", *JVM_FLAGS,
               f"-Dlineagraph.home={self.state.root}",
               "-cp", f"{self.lib}/*", ENTRY_POINT,
               f"--home-dir={self.state.root}", f"--config-dir={self.state.conf}"]
        process = subprocess.Popen(
            cmd, cwd=self.state.root, env=self._env(), stdin=subprocess.DEVNULL,
            stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
        )
        console.close()
        return process.pid

    def owns(self, pid: int) -> bool:
        """True when ``pid`` is a live Java server of this state directory."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            try:
                os.kill(pid, 0)
            except OSError:
                return False
            return True  # no /proc (macOS): trust a live pid from our own pid file
        marker = f"-Dlineagraph.home={self.state.root}".encode()
        return marker in cmdline and ENTRY_POINT.encode() in cmdline

    def exited(self, pid: int) -> bool:
        """Reap ``pid`` if it is our dead child; True when it is gone."""
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return not self.owns(pid)  # not our child: judge by /proc
        # Our own child: its /proc entry may still show Python's command line until it
        # execs Java, so trust waitpid alone.
        return done == pid

    def terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM lets Neo4j shut down cleanly; SIGKILL only after ``timeout``."""
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited(pid):
                return
            time.sleep(0.2)
        self.notify(f"Neo4j did not stop within {timeout:.0f} s; killing pid {pid}.")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while not self.exited(pid):
            time.sleep(0.1)

    def find_pid(self) -> int | None:
        """Our server's pid found by its command line, when the pid file was lost."""
        proc = Path("/proc")
        if not proc.is_dir():
            return None
        for entry in proc.iterdir():
            if entry.name.isdigit() and self.owns(int(entry.name)):
                return int(entry.name)
        return None

    def port_in_use(self, chars: int = 4000) -> bool:
        """Whether the server that just exited could not bind its port. Neo4j says so only
        in its log, as the JVM's BindException text; this is the one place that reads it."""
        for name in ("neo4j.log", "console.log"):
            path = self.state.logs / name
            if path.exists() and "Address already in use" in \
                    path.read_text(encoding="utf-8", errors="replace")[-chars:]:
                return True
        return False

    def log_tail(self, chars: int = 4000) -> str:
        """Why the server stopped, briefly: the last causes in its log, and where to look."""
        reasons: list[str] = []
        logs = []
        for name in ("neo4j.log", "console.log"):
            path = self.state.logs / name
            if not path.exists():
                continue
            logs.append(str(path))
            text = path.read_text(encoding="utf-8", errors="replace")[-chars:]
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("Caused by:") or " ERROR " in line or "Exception:" in line:
                    reasons.append(line.removeprefix("Caused by: "))
        if any("store_lock" in r for r in reasons):
            return (f"another process is already running Neo4j on {self.state.data} "
                    "(its store is locked); stop that process first. Logs: "
                    + ", ".join(logs))
        shown = list(dict.fromkeys(reasons))[-3:]
        return "\n".join(shown + [f"Logs: {', '.join(logs)}"])
