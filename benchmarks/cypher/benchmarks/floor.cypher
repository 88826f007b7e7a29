// The write floor of benchmarks/run.py: the nodes and relationships of one session
// written by minimal hand-written CREATE-only UNWIND statements (no MERGE, no checks,
// no rewrite of existing nodes), under labels of their own so they never meet the
// store's data. Labels and relationship types in $rows come from lineagraph.mapping.
// Three shapes, measured side by side ("Floor shapes" in BENCHMARKS.md): `maps` (one
// statement for every label, rows as maps, the label dynamic), `lists` (one statement
// per type label, written into the query, rows as lists) and `elements` (`lists` whose
// edges find their ends by element id, as the store's commit does); the fastest is the
// floor. Both write at most as many nodes per transaction as the store does
// (LINEAGRAPH_TRANSACTION_NODES), so that neither depends on the server's heap.

// name: floor_constraint
// Ids of floor nodes are unique and indexed, as :Node ids are in the store.
CREATE CONSTRAINT lineagraph_bench_floor_node_id IF NOT EXISTS
FOR (n:BenchFloorNode) REQUIRE n.id IS UNIQUE;

// name: floor_session_constraint
CREATE CONSTRAINT lineagraph_bench_floor_session_id IF NOT EXISTS
FOR (s:BenchFloorSession) REQUIRE s.id IS UNIQUE;

// name: floor_code_constraint
CREATE CONSTRAINT lineagraph_bench_floor_code_id IF NOT EXISTS
FOR (c:BenchFloorCode) REQUIRE c.id IS UNIQUE;

// name: floor_head
// The session, its execution and its script. Parameters: $session {id, props},
// $execution {id, timestamp}, $code {id, code, path}.
CREATE (e:BenchFloorExecution)
SET e = $execution
CREATE (s:BenchFloorSession)
SET s = $session.props
CREATE (s)-[:IN_EXECUTION]->(e)
CREATE (c:BenchFloorCode)
SET c = $code;

// name: floor_nodes
// Shape `maps`: nodes with their type label, IN_SESSION and LOCATED_IN (position on the
// relationship). Parameters: $rows [{label, props, location}], $session_id, $code_id.
MATCH (s:BenchFloorSession {id: $session_id})
MATCH (c:BenchFloorCode {id: $code_id})
UNWIND $rows AS row
CREATE (n:BenchFloorNode:$(row.label))
SET n = row.props
CREATE (n)-[:IN_SESSION]->(s)
FOREACH (p IN CASE WHEN row.location IS NULL THEN [] ELSE [row.location.position] END |
  CREATE (n)-[l:LOCATED_IN]->(c)
  SET l = p);

// name: floor_nodes_lists
// Shape `lists`: nodes of one type label (`FloorLabel` is replaced by one of
// lineagraph.mapping.NODE_LABELS). Parameters: $rows [[props, position or null]],
// $session_id, $code_id.
MATCH (s:BenchFloorSession {id: $session_id})
MATCH (c:BenchFloorCode {id: $code_id})
UNWIND $rows AS row
CREATE (n:BenchFloorNode:FloorLabel)
SET n = row[0]
CREATE (n)-[:IN_SESSION]->(s)
WITH n, c, row WHERE row[1] IS NOT NULL
CREATE (n)-[l:LOCATED_IN]->(c)
SET l = row[1];

// name: floor_edges_lists
// Shape `lists`: dependency relationships. Parameters: $rows [[src, dst, type, props]].
UNWIND $rows AS row
MATCH (a:BenchFloorNode {id: row[0]})
MATCH (b:BenchFloorNode {id: row[1]})
CREATE (a)-[r:$(row[2])]->(b)
SET r = row[3];

// name: floor_nodes_elements
// Shape `elements`: floor_nodes_lists returning each node's element id, by which
// floor_edges_elements then finds it (no index seek). Parameters: as floor_nodes_lists.
// Returns: element_ids [[id, element id]].
MATCH (s:BenchFloorSession {id: $session_id})
MATCH (c:BenchFloorCode {id: $code_id})
UNWIND $rows AS row
CREATE (n:BenchFloorNode:FloorLabel)
SET n = row[0]
CREATE (n)-[:IN_SESSION]->(s)
WITH n, c, row
CALL (n, c, row) {
  WITH n, c, row WHERE row[1] IS NOT NULL
  CREATE (n)-[l:LOCATED_IN]->(c)
  SET l = row[1]
}
RETURN collect([row[0].id, elementId(n)]) AS element_ids;

// name: floor_edges_elements
// Shape `elements`: dependency relationships between nodes found by element id.
// Parameters: $rows [[src element id, dst element id, type, props]].
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
CREATE (a)-[r:$(row[2])]->(b)
SET r = row[3];

// name: floor_edges
// Shape `maps`: dependency relationships. Parameters: $rows [{src, dst, type, props}].
UNWIND $rows AS row
MATCH (a:BenchFloorNode {id: row.src})
MATCH (b:BenchFloorNode {id: row.dst})
CREATE (a)-[r:$(row.type)]->(b)
SET r = row.props;

// name: floor_artifacts
// Artifacts and OF_NODE. Parameters: $rows [{name, node_id, execution_id, date_created,
// version}].
UNWIND $rows AS row
MATCH (n:BenchFloorNode {id: row.node_id})
CREATE (a:BenchFloorArtifact)
SET a = row
CREATE (a)-[:OF_NODE]->(n);

// name: transaction_memory
// The largest heap estimate of a running transaction (benchmarks/run.py samples it while
// each measure runs). Returns: bytes.
SHOW TRANSACTIONS YIELD estimatedUsedHeapMemory
RETURN max(estimatedUsedHeapMemory) AS bytes;

// name: heap_used
// The server's JVM heap in use now. Returns: bytes.
CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes
RETURN attributes.HeapMemoryUsage.value.properties.used AS bytes;

// name: floor_delete_relationships
// Once a floor write is timed, its data is removed, so that the measures after it run
// on a store holding lineagraph's data only: first its relationships, in batches (a
// floor session has one per node, more than one transaction of a 512 MiB server can
// delete). Every floor relationship starts at a floor node.
MATCH (n)-[r]->()
WHERE n:BenchFloorNode OR n:BenchFloorSession OR n:BenchFloorArtifact
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS;

// name: floor_delete_nodes
// Then the floor's nodes (after floor_delete_relationships), in batches.
MATCH (n)
WHERE n:BenchFloorNode OR n:BenchFloorSession OR n:BenchFloorCode OR n:BenchFloorExecution
   OR n:BenchFloorArtifact
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS;

// name: store_node_count
// How many nodes the database holds (from the count store). Returns: nodes.
MATCH (n)
RETURN count(n) AS nodes;
