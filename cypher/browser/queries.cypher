// Saved queries for Neo4j Browser. Paste a block's `:param` line(s) into the editor and
// run them, then paste the query. Each query is tested on LineaPy fixtures
// (tests/test_browser_queries.py). Dependencies point from a node to what it depends on:
// CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|
// SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED (lineagraph.mapping.DEPENDENCY_TYPES).
// Load cypher/browser/style.grass (`lineagraph browser --style`) for colours and captions.

// name: upstream
// An artifact (its latest version) and everything its value was computed from, drawn
// as a graph: the artifact, its node, every node upstream and the dependencies between
// them. Returns: artifact, nodes, dependencies.
//   :param artifact => 'sorted_scores'
MATCH (a:Artifact {name: $artifact})
WITH a ORDER BY a.version DESC LIMIT 1
MATCH (a)-[of:OF_NODE]->(start:Node)
CALL (start) {
  MATCH (start)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(u:Node)
  RETURN collect(DISTINCT u) AS nodes
}
CALL (nodes) {
  UNWIND nodes AS x
  MATCH (x)-[r:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED]->(y:Node)
  WHERE y IN nodes
  RETURN collect(r) AS dependencies
}
RETURN a AS artifact, of, nodes, dependencies;

// name: impact
// Impact of a change: the artifacts whose value depends on a node (a literal, an
// import, any node), itself included. Find a node's id by clicking it in a graph, or
// with `MATCH (n:LiteralNode) RETURN n.caption, n.id`. Returns: artifact, version, node
// (the caption of the artifact's node).
//   :param node_id => '0b1f5a54-...'
MATCH (n:Node {id: $node_id})
CALL (n) {
  MATCH (n)<-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]-(d:Node)
  RETURN DISTINCT d
}
MATCH (a:Artifact)-[:OF_NODE]->(d)
RETURN a.name AS artifact, a.version AS version, d.caption AS node
ORDER BY artifact, version;

// name: sessions_using_library
// Sessions that imported a library (by import name, e.g. 'sklearn.linear_model', or
// package name, e.g. 'scikit-learn') at a given version. Returns: session, started,
// imports (the import statements' captions), artifacts.
//   :param library => 'pandas'
//   :param version => '2.2.3'
MATCH (i:ImportNode)-[:IN_SESSION]->(s:Session)
WHERE (i.name = $library OR i.package_name = $library) AND i.version = $version
WITH s, collect(DISTINCT i.name) AS imports
OPTIONAL MATCH (a:Artifact)-[:OF_NODE]->(:Node)-[:IN_SESSION]->(s)
RETURN s.id AS session, s.creation_time AS started, imports,
       collect(DISTINCT a.name) AS artifacts
ORDER BY started, session;

// name: shared_slices
// Artifacts whose slices share nodes with an artifact's slice (its latest version), and
// how many nodes they share. A slice here is the artifact's node and everything it
// depends on. Returns: artifact, version, shared.
//   :param artifact => 'sorted_scores'
MATCH (a:Artifact {name: $artifact})
WITH a ORDER BY a.version DESC LIMIT 1
MATCH (a)-[:OF_NODE]->(start:Node)
CALL (start) {
  MATCH (start)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(u:Node)
  RETURN collect(DISTINCT u) AS mine
}
MATCH (other:Artifact)-[:OF_NODE]->(o:Node)
WHERE o.session_id = start.session_id AND NOT (other.name = a.name AND other.version = a.version)
CALL (o, mine) {
  MATCH (o)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(u:Node)
  WITH DISTINCT u WHERE u IN mine
  RETURN count(u) AS shared
}
WITH other, shared WHERE shared > 0
RETURN other.name AS artifact, other.version AS version, shared
ORDER BY shared DESC, artifact, version;

// name: mutations
// Mutations of an object: the in-place changes made to the value a variable names
// (`scores.append(88)`, and through aliases, `view.sort()`), in the order they ran,
// each with the call that made it. Returns: session, mutation, line, call.
//   :param variable => 'scores'
MATCH (o:Node) WHERE $variable IN o.variables
MATCH (m:MutateNode)-[:MUTATES*1..]->(o)
MATCH (m)-[:MUTATED_BY]->(c:Node)
OPTIONAL MATCH (c)-[l:LOCATED_IN]->(:SourceCode)
RETURN DISTINCT o.session_id AS session, m.id AS mutation, l.lineno AS line,
       c.caption AS call
ORDER BY session, line, call;

// name: largest_slices
// The artifacts with the largest slices: how many nodes (the artifact's node and all it
// depends on) and how many source lines each slice spans. Returns: artifact, version,
// nodes, lines.
//   :param limit => 10
MATCH (a:Artifact)-[:OF_NODE]->(start:Node)
CALL (start) {
  MATCH (start)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(u:Node)
  WITH DISTINCT u
  OPTIONAL MATCH (u)-[l:LOCATED_IN]->(c:SourceCode)
  RETURN count(u) AS nodes,
         count(DISTINCT CASE WHEN l IS NOT NULL THEN [c.id, l.lineno] END) AS lines
}
RETURN a.name AS artifact, a.version AS version, nodes, lines
ORDER BY nodes DESC, artifact, version
LIMIT $limit;

// name: artifacts_created_between
// Artifacts created in a date range, from `since` (included) to `until` (excluded),
// both local date-times as LineaPy records them. Returns: artifact, version, created,
// session, caption (of the artifact's node).
//   :param since => '2026-01-01T00:00'
//   :param until => '2027-01-01T00:00'
MATCH (a:Artifact)-[:OF_NODE]->(n:Node)
WHERE localdatetime(a.date_created) >= localdatetime($since)
  AND localdatetime(a.date_created) < localdatetime($until)
RETURN a.name AS artifact, a.version AS version, a.date_created AS created,
       n.session_id AS session, n.caption AS caption
ORDER BY created, artifact, version;
