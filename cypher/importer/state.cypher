// Bookkeeping of the LineaPy importer.

// name: session_import_state
// Whether a session was imported completely, and with how many nodes; and how many
// nodes it holds (a commit publishes a session whole: a session holding all its nodes
// but not marked was committed by an import that stopped before marking it).
// Parameters: $session_id. Returns: complete, nodes, stored_nodes.
MATCH (s:Session {id: $session_id})
RETURN coalesce(s.import_complete, false) AS complete, s.imported_nodes AS nodes,
       COUNT { (s)<-[:IN_SESSION]-() } AS stored_nodes;

// name: mark_session_complete
// Marks a session as wholly imported (after its commit). Parameters: $session_id, $nodes.
MATCH (s:Session {id: $session_id})
SET s.import_complete = true, s.imported_nodes = $nodes
RETURN s.id AS id;
