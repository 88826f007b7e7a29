// Program slicing (lineagraph.slicing): LineaPy 0.2.3's get_program_slice, with every
// graph walk done here, in Neo4j. A node's dependencies are the relationship types of
// lineagraph.mapping.DEPENDENCY_TYPES (written out below; a test checks they match),
// pointing from the dependent node to the node it depends on, so "ancestors" are
// reached by following them forwards. LineaPy builds its graph from one session's
// nodes only, so every walk stays inside $session_id.
//
// Every walk is `CALL (s) { MATCH p = (s)-[:TYPES*0..]->(a) WHERE all(x IN nodes(p)
// WHERE ...) RETURN DISTINCT a }`: a variable-length pattern whose path is only used by
// node predicates, followed by DISTINCT, which Neo4j rewrites into a pruning
// breadth-first VarLengthExpand (each node expanded once): the cost grows with the
// slice, never with the number of paths (a DAG with much sharing has exponentially
// many) nor with the size of the session. The subquery keeps the expansion starting
// from the bound start node. Do not rewrite it as a quantified path pattern
// `(s)((x)-[..]->(y WHERE ..)){0,}(a)`: with statistics of a small graph Neo4j 5.26
// caches a Repeat(Trail) plan for it that enumerates every path (measured: minutes on
// a 3,000-node LineaPy session, against 0.2 s for this form).
//
// Index hints pin the start of each query (a node by id, source code by id, lines by
// the LOCATED_IN index): with the statistics of a small graph the planner otherwise
// may cache a plan that finds the start node through the session_id index, reading the
// whole session. (A hint on a missing index is only a warning.)

// name: sink_sessions
// The session of each sink node. Parameters: $ids. Returns: id, session_id (no row for
// an id that is not a stored node).
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n.id AS id, n.session_id AS session_id;

// name: unexecuted_branches
// Control-flow nodes of a session that hold a branch that did not run (LineaPy adds them
// to every slice's sinks). Parameters: $session_id. Returns: id.
MATCH (n:IfNode|ElseNode)
WHERE n.session_id = $session_id AND EXISTS { (n)-[:UNEXECUTED]->(:Node) }
RETURN DISTINCT n.id AS id;

// name: save_calls
// Calls located in source code whose first positional argument is one of the sinks:
// the candidates for `lineapy.save(sink, ...)` (the caller checks the line's text).
// Parameters: $ids, $session_id.
// Returns: sink, id, code_id, lineno, col_offset.
UNWIND $ids AS sink
MATCH (s:Node {id: sink})<-[:POSITIONAL_ARG {index: 0}]-(c:CallNode)-[l:LOCATED_IN]->(code:SourceCode)
USING INDEX s:Node(id)
WHERE c.session_id = $session_id
RETURN DISTINCT sink, c.id AS id, code.id AS code_id, l.lineno AS lineno,
       l.col_offset AS col_offset;

// name: ancestors
// The sinks and all their ancestors in the session, each once, leaving out (and not
// walking past) nodes already in $known; $known must be closed under ancestors.
// Parameters: $ids, $session_id, $known.
// Returns: id, node_type, location ({code_id, lineno, end_lineno} or null).
UNWIND $ids AS id
MATCH (s:Node {id: id})
USING INDEX s:Node(id)
WHERE s.session_id = $session_id AND NOT s.id IN $known
CALL (s) {
  MATCH p = (s)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(a)
  WHERE all(x IN nodes(p) WHERE x.session_id = $session_id AND NOT x.id IN $known)
  RETURN DISTINCT a
}
WITH DISTINCT a
RETURN a.id AS id, a.node_type AS node_type,
       head([(a)-[l:LOCATED_IN]->(c:SourceCode)
             | {code_id: c.id, lineno: l.lineno, end_lineno: l.end_lineno}]) AS location;

// name: same_line_step
// One round of LineaPy's same-line closure, for source code whose nodes are few (a
// notebook cell, a short script): nodes of the session, other than imports and other
// than $known, located in $ranges' source code on a line of the range (from `first` to
// `hi`; a node may start before `first`, not before `lo`), with all their ancestors
// not in $known. Walks the code's LOCATED_IN relationships.
// Parameters: $ranges [{code_id, lo, first, hi}], $session_id, $known.
// Returns: id, node_type, location.
UNWIND $ranges AS r
MATCH (c:SourceCode {id: r.code_id})<-[l:LOCATED_IN]-(n:Node)
USING INDEX c:SourceCode(id)
WHERE l.lineno >= r.lo AND l.lineno <= r.hi AND l.end_lineno >= r.first
  AND n.session_id = $session_id AND NOT n:ImportNode AND NOT n.id IN $known
WITH DISTINCT n
CALL (n) {
  MATCH p = (n)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(a)
  WHERE all(x IN nodes(p) WHERE x.session_id = $session_id AND NOT x.id IN $known)
  RETURN DISTINCT a
}
WITH DISTINCT a
RETURN a.id AS id, a.node_type AS node_type,
       head([(a)-[x:LOCATED_IN]->(c:SourceCode)
             | {code_id: c.id, lineno: x.lineno, end_lineno: x.end_lineno}]) AS location;

// name: same_line_step_indexed
// same_line_step for source code with many nodes (a long script): finds the nodes on
// the lines through the relationship index on LOCATED_IN(lineno) (see
// ensure_schema), so the cost follows the lines asked for, not the size of
// the code. Only use it when that index is online (located_in_index_ready); without it
// this would scan every LOCATED_IN relationship.
// Parameters: $ranges [{code_id, lo, first, hi}], $session_id, $known.
// Returns: id, node_type, location.
UNWIND $ranges AS r
MATCH (n:Node)-[l:LOCATED_IN]->(c)
USING INDEX l:LOCATED_IN(lineno)
WHERE l.lineno >= r.lo AND l.lineno <= r.hi
WITH r, n, l, c
WHERE c.id = r.code_id AND l.end_lineno >= r.first
  AND n.session_id = $session_id AND NOT n:ImportNode AND NOT n.id IN $known
WITH DISTINCT n
CALL (n) {
  MATCH p = (n)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED*0..]->(a)
  WHERE all(x IN nodes(p) WHERE x.session_id = $session_id AND NOT x.id IN $known)
  RETURN DISTINCT a
}
WITH DISTINCT a
RETURN a.id AS id, a.node_type AS node_type,
       head([(a)-[x:LOCATED_IN]->(c:SourceCode)
             | {code_id: c.id, lineno: x.lineno, end_lineno: x.end_lineno}]) AS location;

// name: control_flow_children
// For control-flow nodes of a slice: whether any other node of the slice depends on it
// (its companion aside) and whether it holds an unexecuted branch; a located one with
// neither gets a `pass` in the slice. Parameters: $ids (the control-flow nodes),
// $slice (every node id of the slice). Returns: id, children, unexecuted.
UNWIND $ids AS id
MATCH (n:Node {id: id})
RETURN n.id AS id,
       COUNT { (ch:Node)-[r:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY|CONTROLLED_BY|TESTS|COMPANION|UNEXECUTED]->(n)
               WHERE ch.id IN $slice AND NOT (n)-[:COMPANION]->(ch) } AS children,
       EXISTS { (n)-[:UNEXECUTED]->(:Node) } AS unexecuted;

// name: source_codes
// Text and place of source code, how many nodes are located in it and the most lines
// one of them spans beyond its first (reads every LOCATED_IN of the code: run once
// per code, then only source_code_sizes). Parameters: $ids.
// Returns: id, code, path, jupyter_execution_count, located, max_span.
UNWIND $ids AS id
MATCH (c:SourceCode {id: id})
CALL (c) {
  MATCH (c)<-[l:LOCATED_IN]-()
  RETURN count(l) AS located, coalesce(max(l.end_lineno - l.lineno), 0) AS max_span
}
RETURN c.id AS id, c.code AS code, c.path AS path,
       c.jupyter_execution_count AS jupyter_execution_count, located, max_span;

// name: source_code_sizes
// How many nodes are located in each source code (a count Neo4j keeps: no
// relationship is read for code with many nodes). Parameters: $ids. Returns: id, located.
UNWIND $ids AS id
MATCH (c:SourceCode {id: id})
RETURN c.id AS id, COUNT { (c)<-[:LOCATED_IN]-() } AS located;

// name: located_in_index_ready
// Whether the relationship index on LOCATED_IN(lineno) is online. Returns: ready.
SHOW INDEXES YIELD entityType, labelsOrTypes, properties, state
WHERE entityType = 'RELATIONSHIP' AND labelsOrTypes = ['LOCATED_IN']
  AND properties[0] = 'lineno' AND state = 'ONLINE'
RETURN count(*) > 0 AS ready;
