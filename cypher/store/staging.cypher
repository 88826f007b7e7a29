// A unit of work larger than one transaction (lineagraph.store.staging): its new
// sessions' nodes are written in bounded transactions, pointing (IN_SESSION) at a
// :StagedSession stand-in instead of a :Session, then published in one last transaction
// that turns each stand-in into its :Session. Until then no reader sees them: readers
// reach nodes through a :Session (by its id, or by IN_SESSION), or from an :Artifact,
// and both are written only at publication.

// name: session_states
// For each of $ids: is it a stored :Session, is there a stand-in (the unit being
// written, or one an interrupted attempt left), and whose (token).
// Parameters: $ids. Returns: id, stored, staged, token.
UNWIND $ids AS id
OPTIONAL MATCH (s:Session {id: id})
OPTIONAL MATCH (t:StagedSession {id: id})
RETURN id, s IS NOT NULL AS stored, t IS NOT NULL AS staged, t.token AS token;

// name: begin_staged_sessions
// The stand-ins of the unit's new sessions, marked with the writer's token.
// Parameters: $ids, $token, $pid. Returns: written.
UNWIND $ids AS id
CREATE (t:StagedSession {id: id, token: $token, pid: $pid, started: datetime()})
RETURN count(t) AS written;

// name: delete_staged_nodes
// Up to $limit nodes behind a stand-in of session $session_id (only the one holding
// $token when given), the session not stored, deleted with their relationships (one
// bounded transaction of clearing an unpublished unit). Nodes are sought by the
// (session_id, id) index and kept only when they point (IN_SESSION) at such a stand-in,
// so a writer removing its own unit never touches another's of the same session.
// Parameters: $session_id, $limit, $token. Returns: deleted.
MATCH (t:StagedSession {id: $session_id})
WHERE ($token IS NULL OR t.token = $token)
  AND NOT EXISTS { (:Session {id: $session_id}) }
MATCH (n:Node)
WHERE n.session_id = $session_id AND n.id IS NOT NULL AND (n)-[:IN_SESSION]->(t)
WITH DISTINCT n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted;

// name: delete_staged_session
// The stand-in of session $session_id, once its nodes are gone; only the writer's own
// when $token is given. Parameters: $session_id, $token. Returns: deleted.
MATCH (t:StagedSession {id: $session_id})
WHERE ($token IS NULL OR t.token = $token)
  AND NOT EXISTS { (:Node {session_id: $session_id})-[:IN_SESSION]->(t) }
DETACH DELETE t
RETURN count(*) AS deleted;

// name: publish_staged_sessions
// Each stand-in of $ids still holding $token becomes its :Session (write_sessions then
// sets its properties and links it, in the same transaction).
// Parameters: $ids, $token. Returns: id.
UNWIND $ids AS id
MATCH (t:StagedSession {id: id})
WHERE t.token = $token
REMOVE t:StagedSession
SET t:Session
REMOVE t.token, t.pid, t.started
RETURN id;

// name: all_staged_sessions
// Every stand-in in the store: units being written now, or left by interrupted ones,
// with their age in seconds by the server's clock.
// Returns: id, pid, age, nodes.
MATCH (t:StagedSession)
RETURN t.id AS id, t.pid AS pid,
       duration.inSeconds(t.started, datetime()).seconds AS age,
       COUNT { (:Node)-[:IN_SESSION]->(t) } AS nodes
ORDER BY age DESC;
