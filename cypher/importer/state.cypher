// Bookkeeping of the LineaPy importer.

// name: session_import_state
// Whether a session was imported completely, and with how many nodes.
// Parameters: $session_id. Returns: complete, nodes.
MATCH (s:Session {id: $session_id})
RETURN coalesce(s.import_complete, false) AS complete, s.imported_nodes AS nodes;

// name: mark_session_complete
// Marks a session as wholly imported (after its commit). Parameters: $session_id, $nodes.
MATCH (s:Session {id: $session_id})
SET s.import_complete = true, s.imported_nodes = $nodes
RETURN s.id AS id;
