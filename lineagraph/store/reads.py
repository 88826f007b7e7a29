"""The readers of LineaPy's API: nodes, sessions, source code, variables, artifacts and
values. They see the caller's pending writes, and serve what never changes (nodes,
sessions, source code) from the instance's read cache."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from .._gc import paused_gc
from ..errors import ConfigurationError, CorruptBlobError, NotFoundError, ValueNotFoundError
from ..mapping import (
    DEPENDENCY_TYPES,
    artifact_from_props,
    node_value_from_props,
    records_to_nodes,
    session_from_props,
    source_code_from_props,
)
from ..models import (Artifact, BaseNode, ImportNode, LineaID, NodeValue, SessionContext,
                      SessionType, SourceCode)
from .version import parse_artifact_version


# nodes per page of a bulk read: a page is one record, built whole by the server
READ_PAGE = 5_000
# pages a bulk read fetches ahead of the models built (memory: that many pages of rows)
READ_AHEAD = 3


class _PageReader:
    """Pages of a keyset-paged read (``fetch(after id)``, in id order, a short page
    last), fetched by a thread of their own into a bounded queue; iterate inside
    ``with``. An error of the fetch is raised where the page would have been; leaving
    early stops the thread."""

    def __init__(self, fetch: Callable[[str], list[list]]):
        self._fetch = fetch
        self._pages: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lineagraph-read",
                                        daemon=True)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        after = ""
        try:
            while True:
                page = self._fetch(after)
                if not self._put(page) or len(page) < READ_PAGE:
                    return
                after = page[-1][0]["id"]
        except BaseException as err:  # handed to the reading thread, raised there
            self._put(err)

    def __enter__(self) -> "_PageReader":
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[list[list]]:
        while True:
            page = self._pages.get()
            if isinstance(page, BaseException):
                raise page
            yield page
            if len(page) < READ_PAGE:
                return

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


class ReadsMixin:
    """GraphLineaDB's readers (its state: ``_unit``, ``_cache``, ``blobs``, ``read_all``)."""

    def _node_rows(self, name: str, /, **params: Any) -> list[list]:
        """The ``rows`` of a node query of read.cypher (one record)."""
        found = self.read_rows(name, dependency_types=DEPENDENCY_TYPES, **params)
        return found[0][0] if found else []

    def _session_nodes(self, session_id: str) -> list[BaseNode]:
        """Every node of a session, READ_PAGE at a time (the server's memory stays
        bounded). A reader thread fetches page after page, up to READ_AHEAD ahead,
        while this thread builds the models: Neo4j builds pages while Python builds
        models, so on two cores the read takes about the longer of the two instead of
        their sum (fetching one page ahead only, the server waited whenever a page's
        validation held the GIL)."""
        def fetch(after: str) -> list[list]:
            return self._node_rows("store.nodes_for_session", session_id=session_id,
                                   after=after, page=READ_PAGE)

        nodes: list[BaseNode] = []
        with paused_gc(), _PageReader(fetch) as pages:
            for page in pages:
                nodes += self._build_nodes(page)
        return nodes

    def _build_nodes(self, rows: list[list]) -> list[BaseNode]:
        """Models of node rows (each in the read cache too), built with Python's cyclic
        garbage collector paused: the rows and models are acyclic, and its full
        collections while 100,000 nodes were built took longer than building them."""
        with paused_gc():
            codes = self._source_codes({row[2][1] for row in rows if row[2]})
            nodes = records_to_nodes(rows, codes)
            self._cache.put_many("node", ((row[0]["id"], row) for row in rows))
        return nodes

    def _cached_node(self, node_id: str) -> BaseNode | None:
        """A node of the read cache, built anew from its record (as read from Neo4j, or
        as the commit that wrote it sent it)."""
        record = self._cache.get("node", node_id)
        if record is None:
            return None
        if isinstance(record, dict):  # the row a commit wrote it from (node_to_row)
            located = record["location"]
            record = (record["props"],
                      [[e["type"], e["props"], e["dst"]] for e in record["edges"]],
                      located and [located["position"], located["source_code_id"]])
        location = record[2]
        codes = self._source_codes({location[1]}) if location else {}
        return records_to_nodes([record], codes)[0]

    def _source_codes(self, ids: set[str]) -> dict[str, SourceCode]:
        found = {i: c for i, c in self._unit.source_codes.items() if i in ids}
        for i in ids:
            if i not in found and (cached := self._cache.get("code", i)) is not None:
                found[i] = cached
        missing = [i for i in ids if i not in found]
        if missing:
            for row in self.read_all("store.source_codes_by_ids", ids=missing):
                code = source_code_from_props(row["code"])
                found[code.id] = code
                self._cache.put("code", code.id, code)
        return found


    # -- nodes, sessions, variables --------------------------------------------------------
    def get_node_by_id(self, linea_id: LineaID) -> BaseNode:
        if linea_id in self._unit.nodes:
            return self._unit.nodes[linea_id]
        cached = self._cached_node(linea_id)
        if cached is not None:
            return cached
        nodes = self._build_nodes(self._node_rows("store.node_by_id", id=linea_id))
        if not nodes:
            raise NotFoundError(f"node {linea_id!r} not found")
        return nodes[0]

    def get_nodes_by_ids(self, ids: Iterable[LineaID]) -> list[BaseNode]:
        """Several nodes at once (pending, cached, then one query for the rest); a
        missing id is a NotFoundError naming it."""
        ids = list(dict.fromkeys(ids))
        found: dict[str, BaseNode] = {}
        for node_id in ids:
            node = self._unit.nodes.get(node_id) or self._cached_node(node_id)
            if node is not None:
                found[node_id] = node
        missing = [i for i in ids if i not in found]
        if missing:
            rows = [row for start in range(0, len(missing), READ_PAGE)
                    for row in self._node_rows("store.nodes_by_ids",
                                               ids=missing[start:start + READ_PAGE])]
            found.update((n.id, n) for n in self._build_nodes(rows))
        absent = [i for i in ids if i not in found]
        if absent:
            raise NotFoundError(f"node {absent[0]!r} not found"
                                + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
        return [found[i] for i in ids]

    def get_nodes_for_session(self, session_id: LineaID) -> list[BaseNode]:
        nodes = {n.id: n for n in self._session_nodes(session_id)}
        nodes.update({i: n for i, n in self._unit.nodes.items() if n.session_id == session_id})
        return list(nodes.values())

    def get_session_context(self, linea_id: LineaID) -> SessionContext:
        if linea_id in self._unit.contexts:
            return self._unit.contexts[linea_id]
        cached = self._cache.get("session", linea_id)
        if cached is not None:
            return cached
        rows = self.read_all("store.session_context", id=linea_id)
        if not rows:
            raise NotFoundError(f"session {linea_id!r} not found")
        context = session_from_props(rows[0]["session"])
        self._cache.put("session", context.id, context)
        return context

    def get_source_code_for_session(self, session_id: LineaID) -> str:
        """A script's source, or a Jupyter session's cells joined in execution order."""
        context = self.get_session_context(session_id)
        if context.environment_type is SessionType.JUPYTER:
            cells = {c.id: c for c in (source_code_from_props(r["code"]) for r in self.read_all(
                "store.cells_for_session", session_id=session_id))}
            cells.update({c.id: c for c in self._unit.source_codes.values()
                          if not isinstance(c.location, Path)
                          and c.location.session_id == session_id})
            ordered = sorted(cells.values(), key=lambda c: c.location.execution_count)
            return "".join(c.code for c in ordered)
        for node in self._unit.nodes.values():
            if node.session_id == session_id and node.source_location is not None:
                return node.source_location.source_code.code
        rows = self.read_all("store.script_code_for_session", session_id=session_id)
        return rows[0]["code"] if rows else ""

    def get_libraries_for_session(self, session_id: LineaID) -> list[ImportNode]:
        """One ImportNode per distinct (package, version) used by the session."""
        found: dict[tuple, ImportNode] = {}
        for node in self._build_nodes(self._node_rows(
                "store.libraries_for_session", session_id=session_id)) + sorted(
            (n for n in self._unit.nodes.values()
             if isinstance(n, ImportNode) and n.session_id == session_id),
            key=lambda n: n.id,
        ):
            found.setdefault((node.package_name or node.name, node.version), node)
        return [found[k] for k in sorted(found, key=lambda k: (k[0], k[1] or ""))]

    def get_variables_for_session(self, session_id: LineaID) -> list[tuple[LineaID, str]]:
        pairs = {(r["node_id"], r["name"]) for r in self.read_all(
            "store.variables_for_session", session_id=session_id)}
        for node_id, names in self._unit.variables.items():
            node = self._unit.nodes.get(node_id)
            if node is None:
                try:
                    node = self.get_node_by_id(node_id)
                except NotFoundError:
                    continue
            if node.session_id == session_id:
                pairs.update((node_id, name) for name in names)
        return sorted(pairs)

    def get_variable_by_id(self, linea_id: LineaID) -> list[str]:
        rows = self.read_all("store.variables_by_node", id=linea_id)
        names = list(rows[0]["names"]) if rows else []
        names += [n for n in self._unit.variables.get(linea_id, []) if n not in names]
        return names

    # -- artifacts ----------------------------------------------------------------------------
    def _pending_artifacts(self, name: str | None = None) -> list[Artifact]:
        return [a for a in self._unit.artifacts.values() if name is None or a.name == name]

    def get_all_artifacts(self) -> list[Artifact]:
        stored = [artifact_from_props(r["artifact"]) for r in self.read_all("store.all_artifacts")]
        return sorted(stored + self._pending_artifacts(), key=lambda a: (a.name, a.version))

    def get_artifacts_for_session(self, session_id: LineaID) -> list[Artifact]:
        stored = [artifact_from_props(r["artifact"]) for r in self.read_all(
            "store.artifacts_for_session", session_id=session_id)]
        pending = [a for a in self._pending_artifacts()
                   if self._session_of(a.node_id) == session_id]
        return sorted(stored + pending, key=lambda a: (a.name, a.version))

    def _session_of(self, node_id: str) -> str | None:
        try:
            return self.get_node_by_id(node_id).session_id
        except NotFoundError:
            return None

    def get_artifact_by_name(self, artifact_name: str, version: Optional[int] = None) -> Artifact:
        """The artifact of that name and version; the latest version when none is given."""
        if version is not None:
            parsed = parse_artifact_version(version)
            version = None if parsed == "latest" else parsed
            if version == "all":
                raise ValueError("get_artifact_by_name takes one version, not 'all'")
        candidates = [a for a in self._pending_artifacts(artifact_name)
                      if version is None or a.version == version]
        rows = self.read_all("store.artifact_by_name", name=artifact_name, version=version)
        candidates += [artifact_from_props(r["artifact"]) for r in rows]
        if not candidates:
            which = f" version {version}" if version is not None else ""
            raise NotFoundError(f"artifact {artifact_name!r}{which} not found")
        return max(candidates, key=lambda a: a.version)

    def get_latest_artifact_version(self, artifact_name: str) -> int:
        """The highest version of that name, or -1 when there is none."""
        rows = self.read_all("store.latest_artifact_version", name=artifact_name)
        stored = rows[0]["version"] if rows and rows[0]["version"] is not None else -1
        pending = [a.version for a in self._pending_artifacts(artifact_name)]
        return max([stored, *pending])

    def artifact_in_db(self, node_id: LineaID, execution_id: LineaID, name: str,
                       version: int) -> bool:
        version = int(version)
        if any(a.node_id == node_id and a.execution_id == execution_id and a.version == version
               for a in self._pending_artifacts(name)):
            return True
        rows = self.read_all("store.artifact_exists", node_id=node_id,
                          execution_id=execution_id, name=name, version=int(version))
        return bool(rows[0]["found"])

    def number_of_artifacts_per_node(self, node_id: LineaID, execution_id: LineaID) -> int:
        rows = self.read_all("store.artifacts_per_node", node_id=node_id,
                          execution_id=execution_id)
        pending = sum(1 for a in self._pending_artifacts()
                      if a.node_id == node_id and a.execution_id == execution_id)
        return rows[0]["n"] + pending

    # -- node values --------------------------------------------------------------------------
    def get_node_value_from_db(self, node_id: LineaID,
                               execution_id: LineaID) -> Optional[NodeValue]:
        pending = self._unit.node_values.get((node_id, execution_id))
        if pending is not None:
            return pending[0]
        rows = self.read_all("store.node_value", node_id=node_id, execution_id=execution_id)
        return node_value_from_props(rows[0]["value"]) if rows else None

    def node_value_in_db(self, node_id: LineaID, execution_id: LineaID) -> bool:
        return self.get_node_value_from_db(node_id, execution_id) is not None

    def get_node_value_path(self, node_id: LineaID, execution_id: LineaID) -> str:
        """The blob key of the value (LineaPy: the pickle's file name)."""
        value = self.get_node_value_from_db(node_id, execution_id)
        if value is None:  # a ValueError too, as LineaPy raised there
            raise ValueNotFoundError(
                f"no value stored for node {node_id!r} in execution {execution_id!r}"
            )
        return value.value

    def load_node_value(self, node_id: LineaID, execution_id: LineaID) -> Any:
        """Unpickle a stored value after checking its hash. Unpickling runs code: load
        only values you trust; we load only from our own blob store."""
        key = self.get_node_value_path(node_id, execution_id)
        try:
            self.blobs.path(key)
        except ConfigurationError:  # e.g. "../x": the graph was edited by hand
            raise CorruptBlobError(
                f"the value of node {node_id!r} (execution {execution_id!r}) points at "
                f"{key!r:.100}, which is not a blob key of this store; not loading it"
            ) from None
        return self.blobs.load_value(key)

