// name: components
// Name, version and edition of the Neo4j server (run against the system database).
// Returns: name, version, edition.
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions[0] AS version, edition;

// name: running_commits
// lineagraph transactions in progress, from the metadata GraphLineaDB.commit() sets.
// Returns: transaction_id, pid, op, query, status.
SHOW TRANSACTIONS
YIELD transactionId, metaData, currentQuery, status
WHERE metaData.app = 'lineagraph'
RETURN transactionId AS transaction_id, metaData.pid AS pid, metaData.op AS op,
       currentQuery AS query, status;
