// Queries only the tests use (tests/conftest.py's wipe, and the benchmarks): they do not
// ship in the wheel. Loaded with lineagraph.queries.load_queries(tests/cypher).

// name: wipe_relationships
// Deletes every relationship, in batches: first, so that no batch of wipe_data holds a
// node with 100,000 relationships (a session's), which one transaction of a 512 MiB
// server cannot delete.
MATCH ()-[r]->()
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS;

// name: wipe_data
// Deletes every node and relationship, in batches (between tests and benchmark runs;
// after wipe_relationships).
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS;

// name: constraint_names
// Names of every constraint. Returns: name.
SHOW CONSTRAINTS YIELD name;

// name: drop_constraint
// Drops one constraint by name. Parameters: $name.
DROP CONSTRAINT $name IF EXISTS;

// name: index_names
// Names of every index except the built-in token lookup indexes. Returns: name.
SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name;

// name: drop_index
// Drops one index by name. Parameters: $name.
DROP INDEX $name IF EXISTS;

// name: running_commits
// lineagraph transactions in progress, from the metadata GraphLineaDB.commit() sets.
// Returns: transaction_id, pid, op, query, status.
SHOW TRANSACTIONS
YIELD transactionId, metaData, currentQuery, status
WHERE metaData.app = 'lineagraph'
RETURN transactionId AS transaction_id, metaData.pid AS pid, metaData.op AS op,
       currentQuery AS query, status;
