// Listings for people and scripts (the `lineagraph artifacts`, `sessions`, ... commands).

// name: artifact_listing
// Artifacts with their node, session and value, optionally filtered.
// Parameters: $name (or null), $session_id (or null).
// Returns: artifact, node_type, session_id, value (properties of its :NodeValue or null).
MATCH (a:Artifact)-[:OF_NODE]->(n:Node)
WHERE ($name IS NULL OR a.name = $name) AND ($session_id IS NULL OR n.session_id = $session_id)
OPTIONAL MATCH (v:NodeValue {node_id: a.node_id, execution_id: a.execution_id})
RETURN properties(a) AS artifact, n.node_type AS node_type, n.session_id AS session_id,
       properties(v) AS value
ORDER BY a.name, a.version;

// name: session_listing
// Every session with its size. Returns: session, nodes, artifacts.
MATCH (s:Session)
RETURN properties(s) AS session,
       COUNT { (:Node)-[:IN_SESSION]->(s) } AS nodes,
       COUNT { (:Artifact)-[:OF_NODE]->(:Node)-[:IN_SESSION]->(s) } AS artifacts
ORDER BY s.creation_time, s.id;

// name: node_line
// The source text position of a node. Parameters: $id. Returns: lineno, end_lineno, code.
MATCH (:Node {id: $id})-[l:LOCATED_IN]->(c:SourceCode)
RETURN l.lineno AS lineno, l.end_lineno AS end_lineno, c.code AS code;

// name: session_edges
// Dependency edges between nodes of one session, for export.
// Parameters: $session_id, $dependency_types. Returns: src, type, dst, props.
MATCH (:Session {id: $session_id})
MATCH (a:Node)-[r]->(b:Node)
WHERE a.session_id = $session_id AND a.id IS NOT NULL AND type(r) IN $dependency_types
RETURN a.id AS src, type(r) AS type, b.id AS dst, properties(r) AS props
ORDER BY src, type, dst;

// name: edges_among
// Dependency edges between the given nodes, for exporting a slice.
// Parameters: $ids, $dependency_types. Returns: src, type, dst, props.
MATCH (a:Node)-[r]->(b:Node)
WHERE a.id IN $ids AND b.id IN $ids AND type(r) IN $dependency_types
RETURN a.id AS src, type(r) AS type, b.id AS dst, properties(r) AS props
ORDER BY src, type, dst;
