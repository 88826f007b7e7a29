// The query `lineagraph demo` tells you to paste into Neo4j Browser
// (lineagraph.demo.browser_query puts the artifact's name in as a literal, since Browser
// has no $parameters until you set them).

// name: artifact_paths
// An artifact, its node, and every path to the nodes its value was computed from, drawn
// as a graph. Parameters: $artifact (a name). Returns: p, one path per upstream node.
MATCH p = (:Artifact {name: $artifact})-[:OF_NODE]->(:Node)-[:CALLS|POSITIONAL_ARG|KEYWORD_ARG|READS_GLOBAL|IMPLICIT_DEPENDENCY|MUTATES|MUTATED_BY|SET_BY*0..]->(:Node)
RETURN p;
