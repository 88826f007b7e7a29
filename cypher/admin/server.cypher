// name: components
// Name, version and edition of the Neo4j server (run against the system database).
// Returns: name, version, edition.
CALL dbms.components() YIELD name, versions, edition
RETURN name, versions[0] AS version, edition;
