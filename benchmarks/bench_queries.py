"""The queries the benchmarks run: the shipped library, plus the benchmark-only Cypher
under benchmarks/cypher/ (the floor, index waits) and the test-only Cypher under
tests/cypher/ (wiping the graph). Neither of the last two ships in the wheel."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lineagraph.queries import QueryLibrary, load_queries
from lineagraph.queries import queries as shipped

HERE = Path(__file__).resolve().parent
ROOTS = (HERE / "cypher", HERE.parent / "tests" / "cypher")


@lru_cache(maxsize=1)
def queries() -> QueryLibrary:
    """Every query the benchmarks use, by dotted name (names never clash: checked here)."""
    found = {q.name: q for q in shipped()}
    for root in ROOTS:
        for query in load_queries(root):
            if query.name in found:
                raise ValueError(f"{query.file}:{query.line}: {query.name!r} is already "
                                 f"defined at {found[query.name].file}")
            found[query.name] = query
    return QueryLibrary(found)
