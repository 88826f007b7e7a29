// Lineage questions (lineagraph.lineage). Dependencies point from the dependent node to
// what it depends on, so "upstream" follows them forwards and "downstream" backwards.
// The relationship types are lineagraph.mapping.DEPENDENCY_TYPES, written out (a test
// checks they match). Each unbounded walk is a variable-length pattern followed by
// DISTINCT inside a CALL subquery, which Neo4j plans as a pruning breadth-first expand:
// every node is visited once, so the cost grows with the answer, not with the store.

// name: node_rows
// Nodes by id with what a person needs to recognise them.
// Parameters: $ids. Returns: id, node_type, session_id, name, value, lineno, line, text
// (the node's own source text when it sits on one line).
UNWIND $ids AS id
MATCH (n:Node {id: id})-[:IN_SESSION]->(:Session)
OPTIONAL MATCH (n)-[l:LOCATED_IN]->(c:SourceCode)
WITH n, l, CASE WHEN c IS NULL THEN null ELSE split(c.code, '\n')[l.lineno - 1] END AS line
RETURN n.id AS id, n.node_type AS node_type, n.session_id AS session_id, n.name AS name,
       n.value AS value, l.lineno AS lineno, line,
       CASE WHEN line IS NOT NULL AND l.end_lineno = l.lineno
            THEN substring(line, l.col_offset, l.end_col_offset - l.col_offset) END AS text;

// name: upstream_all
// Every node the start nodes depend on, directly or not (the starts excluded).
// Parameters: $ids. Returns: id.
UNWIND $ids AS id
MATCH (s:Node {id: id})
CALL (s) {
  MATCH (s)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*1..]->(a:Node)
  RETURN DISTINCT a
}
WITH DISTINCT a WHERE NOT a.id IN $ids
RETURN a.id AS id;

// name: upstream_of_each
// For each start node, the nodes it depends on, directly or not (itself included).
// Parameters: $ids. Returns: start, ids.
UNWIND $ids AS id
MATCH (s:Node {id: id})
CALL (s) {
  MATCH (s)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(a:Node)
  RETURN collect(DISTINCT a.id) AS ids
}
RETURN s.id AS start, ids;

// name: downstream_all
// Every node that depends on the start nodes, directly or not (the starts excluded).
// Parameters: $ids. Returns: id.
UNWIND $ids AS id
MATCH (s:Node {id: id})
CALL (s) {
  MATCH (s)<-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*1..]-(d:Node)
  RETURN DISTINCT d
}
WITH DISTINCT d WHERE NOT d.id IN $ids
RETURN d.id AS id;

// name: upstream_step
// One step of a depth-limited walk: the direct dependencies of $frontier not yet $seen.
// Parameters: $frontier, $seen. Returns: id.
UNWIND $frontier AS id
MATCH (:Node {id: id})-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED]->(a:Node)
WHERE NOT a.id IN $seen
RETURN DISTINCT a.id AS id;

// name: downstream_step
// One step of a depth-limited walk: the direct dependents of $frontier not yet $seen.
// Parameters: $frontier, $seen. Returns: id.
UNWIND $frontier AS id
MATCH (:Node {id: id})<-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED]-(d:Node)
WHERE NOT d.id IN $seen
RETURN DISTINCT d.id AS id;

// name: artifacts_of_nodes
// Artifacts naming any of the nodes. Parameters: $ids. Returns: artifact.
MATCH (a:Artifact)-[:OF_NODE]->(n:Node)
WHERE n.id IN $ids
RETURN DISTINCT properties(a) AS artifact
ORDER BY artifact.name, artifact.version;

// name: imports_of_library
// Import nodes of a library, by import name or package name, optionally one version.
// Parameters: $name, $version (or null). Returns: id, session_id, version.
MATCH (i:ImportNode)-[:IN_SESSION]->(:Session)
WHERE (i.name = $name OR i.package_name = $name OR i.name STARTS WITH $name + '.')
  AND ($version IS NULL OR i.version = $version)
RETURN i.id AS id, i.session_id AS session_id, i.version AS version;

// name: shortest_dependency_path
// The shortest chain of dependencies from one node to another (from the dependent to
// what it depends on), or no row. Parameters: $from_id, $to_id. Returns: ids.
MATCH (a:Node {id: $from_id}), (b:Node {id: $to_id})
MATCH p = shortestPath((a)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*..10000]->(b))
RETURN [n IN nodes(p) | n.id] AS ids, [r IN relationships(p) | type(r)] AS types;

// name: import_calls
// The calls that imported a module in the given sessions: LineaPy records
// `import pandas` as a call of `l_import` on the literal 'pandas' (the :ImportNode beside
// it only names the library), so a library's values flow from these calls.
// Parameters: $module (top-level name), $session_ids. Returns: id.
MATCH (c:CallNode)-[:CALLS]->(:LookupNode {name: 'l_import'}),
      (c)-[:POSITIONAL_ARG {index: 0}]->(lit:LiteralNode {value: $module})
WHERE c.session_id IN $session_ids
RETURN c.id AS id;
