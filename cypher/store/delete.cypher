// Deletes of GraphLineaDB; each runs in its own transaction.

// name: delete_artifacts
// Deletes the artifacts of a name: one version, or all when $version is null.
// Parameters: $name, $version. Returns: node_id, execution_id (of each deleted).
MATCH (a:Artifact {name: $name})
WHERE $version IS NULL OR a.version = $version
WITH a, a.node_id AS node_id, a.execution_id AS execution_id
DETACH DELETE a
RETURN node_id, execution_id;

// name: delete_unreferenced_values
// Deletes the values of (node, execution) pairs that no artifact uses any more.
// Parameters: $pairs [{node_id, execution_id}]. Returns: key (blob of each deleted).
UNWIND $pairs AS pair
MATCH (v:NodeValue {node_id: pair.node_id, execution_id: pair.execution_id})
WHERE NOT EXISTS {
  MATCH (a:Artifact {node_id: pair.node_id, execution_id: pair.execution_id})
}
WITH v, v.value AS key
DETACH DELETE v
RETURN key;

// name: delete_node_value
// Parameters: $node_id, $execution_id. Returns: key (blob of the deleted value).
MATCH (v:NodeValue {node_id: $node_id, execution_id: $execution_id})
WITH v, v.value AS key
DETACH DELETE v
RETURN key;
