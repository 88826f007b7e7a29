// Writes of one unit of work. GraphLineaDB.commit() runs them, in this order, inside a
// single managed transaction, each batched with UNWIND over $rows. Labels and
// relationship types in $rows come from lineagraph.mapping's fixed tables.

// name: stored_node_element_ids
// Which of $ids are stored :Node ids, with their element ids (write_edges_by_element_id
// then reaches them without an index seek). A node of a unit not published yet, whose
// IN_SESSION points at a :StagedSession, is not stored. Parameters: $ids.
// Returns: id, element_id.
UNWIND $ids AS id
MATCH (n:Node {id: id})-[:IN_SESSION]->(:Session)
RETURN id, elementId(n) AS element_id;

// name: missing_session_ids
// Which of $ids are not stored :Session ids. Parameters: $ids. Returns: id.
UNWIND $ids AS id
OPTIONAL MATCH (s:Session {id: id})
WITH id, s WHERE s IS NULL
RETURN id;

// name: missing_execution_ids
// Which of $ids are not stored :Execution ids. Parameters: $ids. Returns: id.
UNWIND $ids AS id
OPTIONAL MATCH (e:Execution {id: id})
WITH id, e WHERE e IS NULL
RETURN id;

// name: existing_artifacts
// The stored artifacts among the (name, version) pairs of $rows.
// Parameters: $rows [{name, version}]. Returns: artifact (its properties).
UNWIND $rows AS row
MATCH (a:Artifact {name: row.name, version: row.version})
RETURN a {.*} AS artifact;

// name: same_artifact_saved
// save_artifact run again after Neo4j may have committed it: the artifact that save
// stored, found by its save id. Parameters: $name, $save_id. Returns: artifact.
MATCH (a:Artifact {name: $name})
WHERE a.save_id = $save_id
RETURN a {.*} AS artifact
LIMIT 1;

// name: next_artifact_version
// The version save_artifact gives a name: one more than the highest stored, or 0.
// Parameters: $name. Returns: version.
OPTIONAL MATCH (a:Artifact {name: $name})
RETURN coalesce(max(a.version), -1) + 1 AS version;

// name: write_executions
// Parameters: $rows [{id, props}]. Returns: written.
UNWIND $rows AS row
MERGE (e:Execution {id: row.id})
SET e += row.props
RETURN count(e) AS written;

// name: write_sessions
// Sessions, linked to their execution and to Jupyter cells already stored.
// Parameters: $rows [{id, execution_id, props}]. Returns: written.
UNWIND $rows AS row
MERGE (s:Session {id: row.id})
SET s += row.props
WITH s, row
MATCH (e:Execution {id: row.execution_id})
MERGE (s)-[:IN_EXECUTION]->(e)
WITH s
CALL (s) {
  MATCH (c:SourceCode {jupyter_session_id: s.id})
  MERGE (c)-[:CELL_OF]->(s)
}
RETURN count(s) AS written;

// name: write_source_code
// Source code (a script file or a Jupyter cell, linked to its session when stored).
// Parameters: $rows [{id, props}]. Returns: written.
UNWIND $rows AS row
MERGE (c:SourceCode {id: row.id})
SET c += row.props
WITH c
CALL (c) {
  MATCH (s:Session {id: c.jupyter_session_id})
  MERGE (c)-[:CELL_OF]->(s)
}
RETURN count(c) AS written;

// name: write_nodes
// Nodes with their type label, session and source location. A node written again is
// replaced exactly (properties, type label, dependency edges, which write_edges then
// recreates); only the names it was assigned to (`variables`) are kept.
// Parameters: $rows [{id, session_id, label, props, location}], $dependency_types.
// Returns: written, element_ids ([id, element id] of each node).
UNWIND $rows AS row
MERGE (n:Node {id: row.id})
WITH n, row, n.variables AS variables
SET n = row.props
SET n.variables = variables
REMOVE n:ImportNode:CallNode:LiteralNode:LookupNode:MutateNode:GlobalNode:IfNode:ElseNode
SET n:$(row.label)
WITH n, row
CALL (n) {
  MATCH (n)-[old]->()
  WHERE type(old) IN $dependency_types OR type(old) IN ['LOCATED_IN', 'IN_SESSION']
  DELETE old
}
WITH n, row
MATCH (s:Session {id: row.session_id})
CREATE (n)-[:IN_SESSION]->(s)
WITH n, row
CALL (n, row) {
  WITH n, row WHERE row.location IS NOT NULL
  MATCH (c:SourceCode {id: row.location.source_code_id})
  CREATE (n)-[l:LOCATED_IN]->(c)
  SET l = row.location.position
}
RETURN count(n) AS written, collect([n.id, elementId(n)]) AS element_ids;

// name: existing_node_ids
// Which of $ids are stored :Node ids (those nodes are rewritten by write_nodes, the
// others created by write_new_nodes_located and write_new_nodes_unlocated). Parameters: $ids. Returns: id.
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN id;

// name: write_new_nodes_located
// Nodes that existing_node_ids found absent in this transaction, of one type label and
// one session: CREATE, not MERGE (the uniqueness constraint on :Node(id) still refuses a
// duplicate). `NodeLabel` stands for the type label: lineagraph.store.unit puts one of
// lineagraph.mapping.NODE_LABELS in its place (a static label plans faster than
// $(row.label)). `SessionLabel` stands for :Session, or :StagedSession while a unit
// too large for one transaction is written (lineagraph.store.staging). Rows are lists
// (faster to send and read than maps).
// Parameters: $session_id, $rows [[props, position, source_code_id]].
// Returns: written, element_ids ([id, element id] of each node).
MATCH (s:SessionLabel {id: $session_id})
UNWIND $rows AS row
MATCH (c:SourceCode {id: row[2]})
CREATE (n:Node:NodeLabel)
SET n = row[0]
CREATE (n)-[:IN_SESSION]->(s)
CREATE (n)-[l:LOCATED_IN]->(c)
SET l = row[1]
RETURN count(n) AS written, collect([n.id, elementId(n)]) AS element_ids;

// name: write_new_nodes_in_code
// write_new_nodes_located for many nodes of one source code (a script): the code is
// matched once. Parameters: $session_id, $source_code_id, $rows [[props, position]].
// Returns: written, element_ids.
MATCH (s:SessionLabel {id: $session_id})
MATCH (c:SourceCode {id: $source_code_id})
UNWIND $rows AS row
CREATE (n:Node:NodeLabel)
SET n = row[0]
CREATE (n)-[:IN_SESSION]->(s)
CREATE (n)-[l:LOCATED_IN]->(c)
SET l = row[1]
RETURN count(n) AS written, collect([n.id, elementId(n)]) AS element_ids;

// name: write_new_nodes_unlocated
// write_new_nodes_located for nodes without a source location.
// Parameters: $session_id, $rows [[props]]. Returns: written, element_ids.
MATCH (s:SessionLabel {id: $session_id})
UNWIND $rows AS row
CREATE (n:Node:NodeLabel)
SET n = row[0]
CREATE (n)-[:IN_SESSION]->(s)
RETURN count(n) AS written, collect([n.id, elementId(n)]) AS element_ids;

// name: write_edges
// Dependency relationships, from the dependent node to the node it depends on; types
// from lineagraph.mapping.DEPENDENCY_TYPES. Rows are lists (one statement per batch:
// a statement per type measured no faster).
// Parameters: $rows [[src, dst, type, props]]. Returns: written.
UNWIND $rows AS row
MATCH (a:Node {id: row[0]})
MATCH (b:Node {id: row[1]})
CREATE (a)-[r:$(row[2])]->(b)
SET r = row[3]
RETURN count(r) AS written;

// name: write_edges_by_element_id
// write_edges for edges whose two ends the commit wrote or found stored, by their
// element ids (stored_node_element_ids, the node writers' element_ids): a seek by
// element id instead of two :Node(id) index seeks, 2 to 3 times faster to the server
// (benchmarks/run.py). Each end must still have its id, so an element id that Neo4j
// gave to another node after a delete matches nothing (and the commit fails as if the
// node were missing). Parameters: $rows [[src element id, dst element id, type, props,
// src id, dst id]]. Returns: written.
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0] AND a.id = row[4]
MATCH (b) WHERE elementId(b) = row[1] AND b.id = row[5]
CREATE (a)-[r:$(row[2])]->(b)
SET r = row[3]
RETURN count(r) AS written;

// name: write_variables
// Names a node's value was assigned to (LineaPy's assigned_variable_node).
// Parameters: $rows [{id, names}]. Returns: written.
UNWIND $rows AS row
MATCH (n:Node {id: row.id})
SET n.variables = [v IN coalesce(n.variables, []) WHERE NOT v IN row.names] + row.names
RETURN count(n) AS written;

// name: write_node_values
// A node's value in one execution: a pointer to a blob, with its size, hash and the
// Python type its pickle builds (python_type, from the opcodes; null when they don't tell).
// Parameters: $rows [{node_id, execution_id, props}]. Returns: written.
UNWIND $rows AS row
MATCH (n:Node {id: row.node_id})
MATCH (e:Execution {id: row.execution_id})
MERGE (v:NodeValue {node_id: row.node_id, execution_id: row.execution_id})
SET v += row.props
MERGE (v)-[:VALUE_OF]->(n)
MERGE (v)-[:IN_EXECUTION]->(e)
RETURN count(v) AS written;

// name: write_artifacts
// Named, versioned artifacts. Parameters: $rows [{props}]. Returns: written.
UNWIND $rows AS row
MATCH (n:Node {id: row.props.node_id})
MATCH (e:Execution {id: row.props.execution_id})
CREATE (a:Artifact)
SET a = row.props
CREATE (a)-[:OF_NODE]->(n)
CREATE (a)-[:IN_EXECUTION]->(e)
RETURN count(a) AS written;
