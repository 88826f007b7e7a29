// Helpers of benchmarks/slice_latency.py.

// name: bench_stored_nodes
// How many nodes (of any label) the database holds. Returns: n.
MATCH (n)
RETURN count(n) AS n;

// name: bench_await_indexes
// Waits (up to 300 s) until every index is online.
CALL db.awaitIndexes(300);
