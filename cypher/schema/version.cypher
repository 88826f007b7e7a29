// name: read_version
// The schema version recorded in this store, if any. Returns: version.
MATCH (m:LineagraphSchema {name: 'lineagraph'})
RETURN m.version AS version;

// name: schema_names
// The names of the indexes this store has (a uniqueness constraint's index has the
// constraint's name): ensure_schema creates nothing when every one of ours is there.
// Returns: names.
SHOW INDEXES YIELD name
RETURN collect(name) AS names;

// name: record_version
// Records the schema version applied. Parameters: $version, $applied_at.
MERGE (m:LineagraphSchema {name: 'lineagraph'})
SET m.version = $version, m.applied_at = $applied_at;

// name: nodes_without_caption
// Version 2 gave every :Node a `caption`; a store written before lacks them. A batch of
// such nodes with what their caption is computed from (lineagraph.mapping.node_caption).
// The source code comes by id (store.source_codes_by_ids), once per batch, not per node.
// Parameters: $limit. Returns: id, props, position (or null), code_id (or null).
MATCH (n:Node) WHERE n.caption IS NULL
WITH n LIMIT $limit
OPTIONAL MATCH (n)-[l:LOCATED_IN]->(c:SourceCode)
RETURN n.id AS id, properties(n) AS props, properties(l) AS position, c.id AS code_id;

// name: mutations_to_caption
// MutateNodes still captioned 'mutated' whose mutating call has a caption.
// Each batch renames what it returns, so the next batch finds the rest.
// Parameters: $limit. Returns: id, call_caption.
MATCH (m:MutateNode {caption: 'mutated'})-[:MUTATED_BY]->(c:Node)
WHERE c.caption IS NOT NULL
RETURN m.id AS id, c.caption AS call_caption
LIMIT $limit;

// name: others_without_caption
// A batch of sessions, executions, source code, artifacts and node values without a
// caption. Parameters: $limit. Returns: element_id, label, props.
MATCH (x) WHERE (x:Session OR x:Execution OR x:SourceCode OR x:Artifact OR x:NodeValue)
  AND x.caption IS NULL
WITH x LIMIT $limit
RETURN elementId(x) AS element_id, labels(x)[0] AS label, properties(x) AS props;

// name: set_node_captions
// Parameters: $rows [{id, caption}]. Returns: written.
UNWIND $rows AS row
MATCH (n:Node {id: row.id})
SET n.caption = row.caption
RETURN count(n) AS written;

// name: set_other_captions
// Parameters: $rows [{element_id, caption}]. Returns: written.
UNWIND $rows AS row
MATCH (x) WHERE elementId(x) = row.element_id
SET x.caption = row.caption
RETURN count(x) AS written;

// name: await_index
// Waits until the index $name is online (at most 300 s), as before an older index whose
// lookups it takes over is dropped. Parameters: $name.
CALL db.awaitIndex($name, 300);

// name: drop_node_session_index
// Version 3: the index on :Node(session_id) alone is dropped (the (session_id, id) index
// answers the same lookups, see constraints.cypher).
DROP INDEX lineagraph_node_session IF EXISTS;
