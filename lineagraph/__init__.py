"""lineagraph: a lineage store for Python computations, built natively on Neo4j."""

__version__ = "0.1.0"
