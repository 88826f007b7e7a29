// Reads of GraphLineaDB. Queries returning nodes give one record whose `rows` holds,
// per node, [properties, dependency edges (each [type, properties, dst id]), location
// ([position properties, source code id], or null)]: one Bolt message for many nodes
// instead of one per node (the Python driver's cost per record was most of reading
// 100,000 nodes), read as a tuple (lineagraph.query.read_rows); lineagraph.mapping
// builds the models from exactly these three parts.
// A node's outgoing relationships are walked once (`out`: its dependency edges and its
// LOCATED_IN, IN_SESSION left out) and split in memory: two pattern comprehensions
// walked each node's relationship chain twice (the server's 2.2 s of 100,000 nodes
// became 1.5 s, benchmarks/run.py's read).
// Nodes are read through their :Session only (by id, or IN_SESSION): the nodes of a
// unit being written in several transactions point at a :StagedSession until it is
// published (cypher/store/staging.cypher), and no reader sees them before.

// name: node_by_id
// Parameters: $id, $dependency_types. Returns: rows (none or one).
MATCH (n:Node {id: $id})
WHERE EXISTS { (n)-[:IN_SESSION]->(:Session) }
WITH n, [(n)-[r]->(m) WHERE NOT r:IN_SESSION | [type(r), properties(r), m.id]] AS out
RETURN collect([properties(n), [x IN out WHERE x[0] IN $dependency_types],
  head([x IN out WHERE x[0] = 'LOCATED_IN' | [x[1], x[2]]])]) AS rows;

// name: nodes_by_ids
// Several nodes by id in one query (nothing for an id that is not stored).
// Parameters: $ids, $dependency_types. Returns: rows.
UNWIND $ids AS id
MATCH (n:Node {id: id})
WHERE EXISTS { (n)-[:IN_SESSION]->(:Session) }
WITH n, [(n)-[r]->(m) WHERE NOT r:IN_SESSION | [type(r), properties(r), m.id]] AS out
RETURN collect([properties(n), [x IN out WHERE x[0] IN $dependency_types],
  head([x IN out WHERE x[0] = 'LOCATED_IN' | [x[1], x[2]]])]) AS rows;

// name: nodes_for_session
// One page of a session's nodes: at most $page, in id order, after id $after ('' for
// the first page); a page shorter than $page is the last. ORDER BY both properties of
// the index lineagraph_node_session_id, so that its seek gives the order (no sort).
// Parameters: $session_id, $after, $page, $dependency_types. Returns: rows.
MATCH (n:Node)
WHERE n.session_id = $session_id AND n.id > $after
WITH n ORDER BY n.session_id, n.id LIMIT $page
WITH collect(n) AS page WHERE EXISTS { (:Session {id: $session_id}) }
UNWIND page AS n
WITH n, [(n)-[r]->(m) WHERE NOT r:IN_SESSION | [type(r), properties(r), m.id]] AS out
RETURN collect([properties(n), [x IN out WHERE x[0] IN $dependency_types],
  head([x IN out WHERE x[0] = 'LOCATED_IN' | [x[1], x[2]]])]) AS rows;

// name: libraries_for_session
// One import per distinct (package, version) of a session, the first by id, in
// (package, version) order. Parameters: $session_id, $dependency_types. Returns: rows.
MATCH (:Session {id: $session_id})
MATCH (i:Node:ImportNode)
WHERE i.session_id = $session_id AND i.id IS NOT NULL
WITH coalesce(i.package_name, i.name) AS package, i.version AS version, i
ORDER BY i.id
WITH package, version, collect(i)[0] AS n
ORDER BY package, version
WITH n, [(n)-[r]->(m) WHERE NOT r:IN_SESSION | [type(r), properties(r), m.id]] AS out
RETURN collect([properties(n), [x IN out WHERE x[0] IN $dependency_types],
  head([x IN out WHERE x[0] = 'LOCATED_IN' | [x[1], x[2]]])]) AS rows;

// name: source_codes_by_ids
// Parameters: $ids. Returns: code (properties of each :SourceCode).
MATCH (c:SourceCode) WHERE c.id IN $ids
RETURN properties(c) AS code;

// name: session_context
// Parameters: $id. Returns: session.
MATCH (s:Session {id: $id})
RETURN properties(s) AS session;

// name: cells_for_session
// Cells of a Jupyter session in execution order. Parameters: $session_id. Returns: code.
MATCH (c:SourceCode {jupyter_session_id: $session_id})
RETURN properties(c) AS code
ORDER BY c.jupyter_execution_count;

// name: script_code_for_session
// The script a session ran (the source code its nodes are located in).
// Parameters: $session_id. Returns: code.
MATCH (:Session {id: $session_id})
MATCH (n:Node)-[:LOCATED_IN]->(c:SourceCode)
WHERE n.session_id = $session_id AND n.id IS NOT NULL
RETURN c.code AS code
LIMIT 1;

// name: variables_for_session
// (node id, variable name) pairs of a session. Parameters: $session_id.
// Returns: node_id, name.
MATCH (:Session {id: $session_id})
MATCH (n:Node)
WHERE n.session_id = $session_id AND n.id IS NOT NULL AND n.variables IS NOT NULL
UNWIND n.variables AS name
RETURN n.id AS node_id, name
ORDER BY node_id, name;

// name: variables_by_node
// Parameters: $id. Returns: names.
MATCH (n:Node {id: $id})-[:IN_SESSION]->(:Session)
RETURN coalesce(n.variables, []) AS names;

// name: artifact_by_name
// The artifact of that name and version, or its latest version when $version is null.
// Parameters: $name, $version. Returns: artifact.
MATCH (a:Artifact {name: $name})
WHERE $version IS NULL OR a.version = $version
RETURN properties(a) AS artifact
ORDER BY a.version DESC
LIMIT 1;

// name: all_artifacts
// Returns: artifact.
MATCH (a:Artifact)
RETURN properties(a) AS artifact
ORDER BY a.name, a.version;

// name: artifacts_for_session
// Parameters: $session_id. Returns: artifact.
MATCH (a:Artifact)-[:OF_NODE]->(n:Node)
WHERE n.session_id = $session_id AND n.id IS NOT NULL
RETURN properties(a) AS artifact
ORDER BY a.name, a.version;

// name: latest_artifact_version
// Parameters: $name. Returns: version (null when there is none).
MATCH (a:Artifact {name: $name})
RETURN max(a.version) AS version;

// name: artifact_exists
// Parameters: $node_id, $execution_id, $name, $version. Returns: found.
RETURN EXISTS {
  MATCH (a:Artifact {name: $name, version: $version})
  WHERE a.node_id = $node_id AND a.execution_id = $execution_id
} AS found;

// name: artifacts_per_node
// Parameters: $node_id, $execution_id. Returns: n.
MATCH (a:Artifact {node_id: $node_id, execution_id: $execution_id})
RETURN count(a) AS n;

// name: node_value
// Parameters: $node_id, $execution_id. Returns: value.
MATCH (v:NodeValue {node_id: $node_id, execution_id: $execution_id})
RETURN properties(v) AS value;

// name: blob_reference_counts
// How many values point at each blob key. Parameters: $keys. Returns: key, refs.
UNWIND $keys AS key
OPTIONAL MATCH (v:NodeValue {value: key})
RETURN key, count(v) AS refs;

// name: all_blob_keys
// Every blob key a value points at. Returns: key.
MATCH (v:NodeValue)
RETURN DISTINCT v.value AS key;
