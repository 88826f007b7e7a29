// name: read_version
// The schema version recorded in this store, if any. Returns: version.
MATCH (m:LineagraphSchema {name: 'lineagraph'})
RETURN m.version AS version;

// name: record_version
// Records the schema version applied. Parameters: $version, $applied_at.
MERGE (m:LineagraphSchema {name: 'lineagraph'})
SET m.version = $version, m.applied_at = $applied_at;
