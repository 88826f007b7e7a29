// Uniqueness constraints and indexes of a lineagraph store, version 1.
// Applied in file order by `ensure_schema()` / `lineagraph init`; every statement is
// IF NOT EXISTS, so applying them again changes nothing.

// name: node_id_unique
// Every lineage node (:Node) has a unique LineaPy id.
CREATE CONSTRAINT lineagraph_node_id IF NOT EXISTS
FOR (n:Node) REQUIRE n.id IS UNIQUE;

// name: session_id_unique
CREATE CONSTRAINT lineagraph_session_id IF NOT EXISTS
FOR (s:Session) REQUIRE s.id IS UNIQUE;

// name: execution_id_unique
CREATE CONSTRAINT lineagraph_execution_id IF NOT EXISTS
FOR (e:Execution) REQUIRE e.id IS UNIQUE;

// name: source_code_id_unique
CREATE CONSTRAINT lineagraph_source_code_id IF NOT EXISTS
FOR (c:SourceCode) REQUIRE c.id IS UNIQUE;

// name: artifact_name_version_unique
// One artifact per name and version (LineaPy's _unique_artifact_name_and_version).
CREATE CONSTRAINT lineagraph_artifact_name_version IF NOT EXISTS
FOR (a:Artifact) REQUIRE (a.name, a.version) IS UNIQUE;

// name: node_value_unique
// One value per node and execution (LineaPy's node_value primary key).
CREATE CONSTRAINT lineagraph_node_value IF NOT EXISTS
FOR (v:NodeValue) REQUIRE (v.node_id, v.execution_id) IS UNIQUE;

// name: schema_version_unique
CREATE CONSTRAINT lineagraph_schema_version IF NOT EXISTS
FOR (m:LineagraphSchema) REQUIRE m.name IS UNIQUE;

// name: node_session_id_index
// Nodes of a session are found by session_id without walking :IN_SESSION, and read in
// id order a page at a time (store.nodes_for_session): the seek of one page gives its
// nodes already ordered, so each page costs its own size. A query for a session's nodes
// says `n.session_id = $session_id AND n.id IS NOT NULL`, which this index answers
// (every :Node has an id). Schema version 3 dropped the index on session_id alone,
// which each commit kept up to date for nothing (~4% of a 10,000-node commit).
CREATE INDEX lineagraph_node_session_id IF NOT EXISTS
FOR (n:Node) ON (n.session_id, n.id);

// name: import_name_index
// Sessions and artifacts that use a library are found by the import's name.
CREATE INDEX lineagraph_import_name IF NOT EXISTS
FOR (n:ImportNode) ON (n.name);

// name: artifact_name_index
CREATE INDEX lineagraph_artifact_name IF NOT EXISTS
FOR (a:Artifact) ON (a.name);

// name: artifact_node_index
// Artifacts of a node and execution (number_of_artifacts_per_node, deletes).
CREATE INDEX lineagraph_artifact_node IF NOT EXISTS
FOR (a:Artifact) ON (a.node_id, a.execution_id);

// name: node_value_blob_index
// Blob garbage collection asks whether any value still points at a blob.
CREATE INDEX lineagraph_node_value_blob IF NOT EXISTS
FOR (v:NodeValue) ON (v.value);

// name: located_in_line_index
// Slicing finds the statements on given lines of a long script through this index.
CREATE INDEX lineagraph_located_in_lineno IF NOT EXISTS
FOR ()-[l:LOCATED_IN]-() ON (l.lineno);

// name: source_code_cell_index
CREATE INDEX lineagraph_source_code_cell IF NOT EXISTS
FOR (c:SourceCode) ON (c.jupyter_session_id);
