"""Lineage questions on imported LineaPy sessions, checked against walks done in Python
over the same graph (read with get_nodes_for_session and each node's parents())."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import pytest

from lineagraph import lineage
from lineagraph.errors import NotFoundError
from lineagraph.importer import import_lineapy
from lineagraph.mapping import DEPENDENCY_TYPES
from lineagraph.queries import queries

FIXTURES = Path(__file__).parent / "fixtures" / "lineapy"


@pytest.fixture
def kitchen(store):
    import_lineapy(store, FIXTURES / "mixed_kitchen_sink" / "db.sqlite")
    sid = store.get_all_artifacts()[0]
    session = store.get_node_by_id(sid.node_id).session_id
    nodes = {n.id: n for n in store.get_nodes_for_session(session)}
    return store, nodes


def oracle_up(nodes, start, depth=None):
    dist = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        if depth is not None and dist[current] == depth:
            continue
        for parent in nodes[current].parents():
            if parent not in dist:
                dist[parent] = dist[current] + 1
                queue.append(parent)
    dist.pop(start)
    return dist


def oracle_down(nodes, start):
    children: dict[str, set] = {}
    for node in nodes.values():
        for parent in node.parents():
            children.setdefault(parent, set()).add(node.id)
    seen, queue = set(), deque([start])
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    seen.discard(start)
    return seen


def test_the_walks_follow_exactly_the_dependency_types():
    for name in ("lineage.upstream_all", "lineage.upstream_of_each", "lineage.downstream_all",
                 "lineage.upstream_step",
                 "lineage.downstream_step", "lineage.shortest_dependency_path"):
        types = re.search(r"\[:([A-Z_|]+)", queries()[name].text).group(1).split("|")
        assert types == DEPENDENCY_TYPES, name


def test_upstream_of_every_artifact_matches_a_walk_in_python(kitchen):
    store, nodes = kitchen
    for art in store.get_all_artifacts():
        got = lineage.upstream(store, artifact=(art.name, art.version))
        assert {n.id for n in got} == set(oracle_up(nodes, art.node_id)), art.name


@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_upstream_with_a_depth_reports_distances(kitchen, depth):
    store, nodes = kitchen
    art = store.get_artifact_by_name("ks_coefs", 0)
    got = lineage.upstream(store, node_id=art.node_id, depth=depth)
    assert {n.id: n.distance for n in got} == oracle_up(nodes, art.node_id, depth)


def test_downstream_of_every_literal_matches_a_walk_in_python(kitchen):
    store, nodes = kitchen
    literals = [n for n in nodes.values() if n.node_type.name == "LiteralNode"]
    assert len(literals) > 20
    for lit in literals:
        got = lineage.downstream(store, node_id=lit.id)
        assert {n.id for n in got} == oracle_down(nodes, lit.id)


def test_impact_lists_the_artifacts_computed_from_a_node(kitchen):
    store, nodes = kitchen
    artifacts = store.get_all_artifacts()
    for node in nodes.values():
        if node.node_type.name not in ("ImportNode", "LiteralNode"):
            continue
        expected = {(a.name, a.version) for a in artifacts
                    if a.node_id == node.id or node.id in oracle_up(nodes, a.node_id)}
        got = {(a.name, a.version) for a in lineage.impact(store, node.id)}
        assert got == expected, node


def test_library_usage_by_package_and_version(kitchen):
    store, nodes = kitchen
    imports = [n for n in nodes.values() if n.node_type.name == "ImportNode"]
    used_somewhere = 0
    for package in sorted({n.package_name for n in imports}):
        mine = [n for n in imports if n.package_name == package]
        calls = {c.id for c in nodes.values() if c.node_type.name == "CallNode"
                 and getattr(nodes[c.function_id], "name", None) == "l_import"
                 and c.positional_args
                 and getattr(nodes[c.positional_args[0].id], "value", None) == package}
        assert calls, package
        expected = {(a.name, a.version) for a in store.get_all_artifacts()
                    if calls & (set(oracle_up(nodes, a.node_id)) | {a.node_id})}
        usage = lineage.library_usage(store, package)
        assert {(a.name, a.version) for a in usage.artifacts} == expected, package
        assert usage.sessions == sorted({n.session_id for n in mine})
        assert lineage.library_usage(store, package, mine[0].version).sessions == usage.sessions
        used_somewhere += bool(expected)
    assert used_somewhere  # the check above is not vacuous
    assert lineage.library_usage(store, "numpy", "0.0.0-never").sessions == []
    assert lineage.library_usage(store, "no_such_library").artifacts == []


def test_artifacts_sharing_nodes(kitchen):
    store, nodes = kitchen
    mine = store.get_artifact_by_name("ks_coefs", 0)
    my_set = set(oracle_up(nodes, mine.node_id)) | {mine.node_id}
    expected = {}
    for other in store.get_all_artifacts():
        if (other.name, other.version) == ("ks_coefs", 0):
            continue
        shared = len(my_set & (set(oracle_up(nodes, other.node_id)) | {other.node_id}))
        if shared:
            expected[(other.name, other.version)] = shared
    assert lineage.shared_nodes(store, ("ks_coefs", 0)) == expected and expected


def test_a_shortest_dependency_path_between_two_nodes(kitchen):
    store, nodes = kitchen
    art = store.get_artifact_by_name("ks_model", 0)
    ups = oracle_up(nodes, art.node_id)
    target = max(ups, key=ups.get)  # the farthest ancestor
    path = lineage.dependency_path(store, art.node_id, target)
    ids = [n.id for n in path]
    assert ids[0] == art.node_id and ids[-1] == target
    assert len(ids) - 1 == ups[target]  # shortest
    for child, parent in zip(ids, ids[1:]):
        assert parent in set(nodes[child].parents())
    assert lineage.dependency_path(store, target, art.node_id) is None


def test_nodes_are_described_for_people(kitchen):
    store, _ = kitchen
    got = lineage.upstream(store, artifact="ks_ratio", depth=3)
    located = [n for n in got if n.text]
    assert located and all(n.caption == n.text and n.text in n.line for n in located)
    literal = next(n for n in lineage.upstream(store, artifact="ks_ratio")
                   if n.node_type == "LiteralNode")
    assert literal.caption  # a literal shows its value


def test_unknown_starts_are_named(kitchen):
    store, _ = kitchen
    with pytest.raises(NotFoundError, match="node 'nope' not found"):
        lineage.upstream(store, node_id="nope")
    with pytest.raises(NotFoundError, match="artifact 'nope' not found"):
        lineage.downstream(store, artifact="nope")
    with pytest.raises(ValueError, match="depth"):
        lineage.upstream(store, artifact="ks_ratio", depth=-1)
