"""Named Cypher queries, loaded from ``.cypher`` files.

Each block starts with a ``// name: some_name`` header; the ``//`` lines under it are
its documentation (they list its ``$parameters`` and what it returns); the rest, up to
the next header, is the query. Folders become namespaces, so ``cypher/store/read.cypher``
holding ``// name: nodes_for_session`` is ``queries["store.nodes_for_session"]``
(the file name is not part of the name; a folder's files share its namespace).

The loader refuses an empty, malformed or duplicate name, and a block without a query,
naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .errors import MissingDataError, QueryFileError
from .resources import data_path

_HEADER = re.compile(r"^//\s*name:\s*(?P<name>.*?)\s*$")
_VALID_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    doc: str
    file: Path
    line: int
    params: frozenset[str] = field(default_factory=frozenset)

    def __str__(self) -> str:
        return self.text

    def naming(self, placeholder: str, name: str, table: Iterable[str]) -> "Query":
        """This query with the label or relationship type ``placeholder`` (written
        ``:Placeholder`` in its text) replaced by ``name``, which must be in ``table``,
        a fixed table in code (labels and types never come from data)."""
        if name not in set(table):
            raise ValueError(f"{name!r} is not a name of the fixed table for {placeholder}")
        marker = re.compile(rf":{re.escape(placeholder)}\b")
        if len(marker.findall(self.text)) != 1:
            raise ValueError(f"query {self.name!r} must name :{placeholder} exactly once")
        return Query(self.name, marker.sub(":" + name, self.text), self.doc, self.file,
                     self.line, self.params)


class QueryLibrary:
    """All queries under one root folder, by dotted name."""

    def __init__(self, queries: dict[str, Query]):
        self._queries = queries

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no Cypher query named {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def __iter__(self):
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def names(self) -> list[str]:
        return sorted(self._queries)

    def namespace(self, prefix: str) -> list[Query]:
        """Queries whose name starts with ``prefix.``, in file order."""
        return [q for n, q in self._queries.items() if n.startswith(prefix + ".")]


def parse_file(path: Path, namespace: str) -> list[Query]:
    """The named blocks of one ``.cypher`` file."""
    blocks: list[Query] = []
    current: dict | None = None

    def finish() -> None:
        if current is None:
            return
        text = "\n".join(current["body"]).strip().rstrip(";").strip()
        if not text:
            raise QueryFileError(
                f"{path}:{current['line']}: query {current['name']!r} has no Cypher"
            )
        params = frozenset(_PARAM.findall(_STRING.sub("''", text)))
        blocks.append(Query(current["name"], text, "\n".join(current["doc"]).strip(),
                            path, current["line"], params))

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:  # said as ours, never as a socket's OSError (Neo4j down)
        raise MissingDataError(f"cannot read lineagraph's query file {path} "
                               f"({err.strerror or err}); reinstall lineagraph") from None
    for lineno, raw in enumerate(text.splitlines(), 1):
        header = _HEADER.match(raw.strip())
        if header:
            finish()
            name = header.group("name")
            if not name:
                raise QueryFileError(f"{path}:{lineno}: empty query name")
            if not _VALID_NAME.match(name):
                raise QueryFileError(
                    f"{path}:{lineno}: query name {name!r} must be snake_case"
                )
            full = f"{namespace}.{name}" if namespace else name
            current = {"name": full, "line": lineno, "doc": [], "body": []}
            continue
        stripped = raw.strip()
        if current is None:
            if stripped and not stripped.startswith("//"):
                raise QueryFileError(
                    f"{path}:{lineno}: Cypher before the first '// name:' header"
                )
            continue
        if not current["body"] and stripped.startswith("//"):
            current["doc"].append(stripped.lstrip("/").strip())
        elif stripped or current["body"]:
            current["body"].append(raw.rstrip())
    finish()
    return blocks


def load_queries(root: Path | str | None = None) -> QueryLibrary:
    """Every query under ``root`` (default: the ``cypher/`` folder shipped with us)."""
    root = Path(root) if root is not None else data_path("cypher")
    found: dict[str, Query] = {}
    for path in sorted(root.rglob("*.cypher")):
        namespace = ".".join(path.parent.relative_to(root).parts)
        for query in parse_file(path, namespace):
            if query.name in found:
                first = found[query.name]
                raise QueryFileError(
                    f"{path}:{query.line}: duplicate query name {query.name!r} "
                    f"(first defined at {first.file}:{first.line})"
                )
            found[query.name] = query
    if not found:
        raise QueryFileError(f"no named Cypher queries found under {root}")
    return QueryLibrary(found)


@lru_cache(maxsize=1)
def queries() -> QueryLibrary:
    """The shipped query library, loaded once."""
    return load_queries()
